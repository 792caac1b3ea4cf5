/// A content digest such as `sha256:9f86d0…`, validated on construction.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The algorithm, for now always `sha256`.
  public let algorithm: String
  /// The lowercase hex encoding of the hash.
  public let hex: String

  /// Parses `algorithm:hex`; only SHA-256 with 64 lowercase hex digits is accepted.
  public init(_ text: String) throws(OCIError) {
    guard let colon = text.firstIndex(of: ":") else {
      throw .invalidDigest(text, reason: "no algorithm prefix")
    }
    let algorithm = String(text[..<colon])
    let hex = String(text[text.index(after: colon)...])
    guard algorithm == "sha256" else {
      throw .invalidDigest(text, reason: "unsupported algorithm \"\(algorithm.prefix(32))\"")
    }
    try self.init(sha256Hex: hex)
  }

  /// Builds a SHA-256 digest from its 64-character lowercase hex encoding.
  public init(sha256Hex hex: String) throws(OCIError) {
    guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
    else {
      throw .invalidDigest("sha256:\(hex.prefix(80))", reason: "expected 64 lowercase hex digits")
    }
    self.algorithm = "sha256"
    self.hex = hex
  }

  /// Builds a SHA-256 digest from the 32 raw bytes of a hash.
  public init(sha256Bytes bytes: some Sequence<UInt8>) {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0f)])
    }
    precondition(out.count == 64, "a SHA-256 hash has 32 bytes")
    self.algorithm = "sha256"
    self.hex = String(decoding: out, as: UTF8.self)
  }

  public var description: String { "\(algorithm):\(hex)" }

  /// The first 12 hex digits, as tools show image and layer ids.
  public var short: String { String(hex.prefix(12)) }

  public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

extension Digest: Codable {
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    try self.init(container.decode(String.self))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
