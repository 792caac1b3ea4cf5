/// What went wrong while interpreting image metadata.
public enum OCIError: Error, Equatable, CustomStringConvertible {
  /// A digest string that is malformed or uses an algorithm hoist does not verify.
  case invalidDigest(String, reason: String)
  /// An image reference that cannot be parsed.
  case invalidReference(String, reason: String)
  /// A manifest, index or config that cannot be decoded.
  case invalidDocument(what: String, reason: String)
  /// A platform string that is not `os/arch[/variant]`.
  case invalidPlatform(String)
  /// A conversion between manifest families that cannot be made, with the reason.
  case unconvertible(String)

  public var description: String {
    switch self {
    case .invalidDigest(let text, let reason): "invalid digest \"\(text)\": \(reason)"
    case .invalidReference(let text, let reason): "invalid image reference \"\(text)\": \(reason)"
    case .invalidDocument(let what, let reason): "\(what) is not valid: \(reason)"
    case .invalidPlatform(let text): "invalid platform \"\(text)\": expected os/arch[/variant]"
    case .unconvertible(let reason): reason
    }
  }
}
