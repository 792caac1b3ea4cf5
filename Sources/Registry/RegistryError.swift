import OCI

/// What went wrong talking to a registry, with what hoist was doing and to what.
public struct RegistryError: TransientError, CustomStringConvertible {
  public enum Reason: Sendable {
    /// The registry answered with an unexpected status; `codes` are its error codes and messages.
    case status(Int, codes: [(code: String, message: String)])
    /// The registry could not be reached (DNS, refused connection, timeout, TLS).
    case unreachable(String)
    /// Credentials were missing or refused.
    case authentication(String)
    /// The registry broke the protocol (missing header, wrong digest, bad redirect).
    case protocolViolation(String)
    /// The registry asked for fresh credentials in the middle of a request that cannot be sent again as it
    /// was (a streamed upload); they were renewed for the next one.
    case credentialsRenewed
  }

  /// What hoist was doing, e.g. `upload blob sha256:… to localhost:5000/app`.
  public var operation: String
  /// The registry host.
  public var registry: String
  public var reason: Reason

  public init(operation: String, registry: String, reason: Reason) {
    self.operation = operation
    self.registry = registry
    self.reason = reason
  }

  /// The HTTP status, when the registry answered with one.
  public var status: Int? {
    if case .status(let status, _) = reason { return status }
    return nil
  }

  /// A dropped connection, a timeout, throttling or a server error: worth trying again.
  public var isTransient: Bool {
    switch reason {
    case .unreachable, .credentialsRenewed: return true
    case .status(let status, _): return status == 429 || status == 408 || (500...599).contains(status)
    default: return false
    }
  }

  /// The registry's first error code (`NAME_UNKNOWN`, `MANIFEST_INVALID`, …), if any.
  public var code: String? {
    if case .status(_, let codes) = reason { return codes.first?.code }
    return nil
  }

  public var description: String {
    switch reason {
    case .status(let status, let codes):
      let detail = codes.map { "\($0.code): \($0.message)" }.joined(separator: "; ")
      return "\(operation): \(registry) answered HTTP \(status)\(detail.isEmpty ? "" : " \(detail)")"
    case .unreachable(let why): return "\(operation): cannot reach \(registry): \(why)"
    case .authentication(let why): return "\(operation): authentication with \(registry) failed: \(why)"
    case .protocolViolation(let why): return "\(operation): \(registry) broke the protocol: \(why)"
    case .credentialsRenewed: return "\(operation): \(registry) asked for fresh credentials mid-request"
    }
  }
}
