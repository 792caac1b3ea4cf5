import CCrypto
import Foundation

/// Incremental SHA-256 through OpenSSL's EVP interface (SHA-NI where the CPU has it).
public final class SHA256Hasher {
  private let context: OpaquePointer

  public init() {
    guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
      fatalError("OpenSSL could not set up SHA-256")
    }
    self.context = context
  }

  deinit { EVP_MD_CTX_free(context) }

  /// Adds bytes to the hash.
  public func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    EVP_DigestUpdate(context, base, bytes.count)
  }

  /// Adds bytes to the hash.
  public func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Returns the 32-byte hash; the hasher must not be used afterwards.
  public func finalize() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    EVP_DigestFinal_ex(context, &out, &length)
    return out
  }

  /// The SHA-256 hash of everything `reader` gives, and how many bytes that was.
  public static func hash(_ reader: any ByteReader) throws(StreamError) -> (hash: [UInt8], size: Int64) {
    let hasher = SHA256Hasher()
    var size: Int64 = 0
    while case let chunk = try reader.read(maxLength: IOSize.preferred), !chunk.isEmpty {
      hasher.update(chunk)
      size += Int64(chunk.count)
    }
    return (hasher.finalize(), size)
  }

  /// The SHA-256 hash of a whole buffer (an array, a slice, `Data`), read in place.
  public static func hash(_ bytes: some ContiguousBytes) -> [UInt8] {
    let hasher = SHA256Hasher()
    bytes.withUnsafeBytes { hasher.update($0) }
    return hasher.finalize()
  }
}
