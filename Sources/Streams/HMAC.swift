import CCrypto
import Foundation

/// HMAC-SHA256 through OpenSSL, for request signing.
public enum HMACSHA256 {
  /// The 32-byte MAC of `message` under `key`.
  public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    key.withUnsafeBytes { keyBytes in
      message.withUnsafeBytes { messageBytes in
        _ = HMAC(
          EVP_sha256(), keyBytes.baseAddress, Int32(key.count),
          messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &out, &length)
      }
    }
    return out
  }
}

/// SHA-1, only for names other tools derive with it (the AWS SSO token cache file).
public enum SHA1 {
  /// The lowercase hex SHA-1 of `bytes`.
  public static func hex(_ bytes: [UInt8]) -> String {
    var out = [UInt8](repeating: 0, count: 20)
    var length: UInt32 = 0
    bytes.withUnsafeBytes { raw in
      _ = EVP_Digest(raw.baseAddress, bytes.count, &out, &length, EVP_sha1(), nil)
    }
    return out.map { String(format: "%02x", $0) }.joined()
  }
}
