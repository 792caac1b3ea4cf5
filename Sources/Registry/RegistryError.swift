import OCI
import Transport

/// What went wrong talking to a registry, with what hoist was doing, to what, and how often it tried.
public struct RegistryError: CategorizedError, CustomStringConvertible {
  public enum Reason: Sendable {
    /// The registry answered with an unexpected status; `codes` are its error codes and messages.
    case status(Int, codes: [(code: String, message: String)])
    /// The registry could not be reached (DNS, refused connection, timeout, TLS), or the exchange broke.
    case unreachable(ConnectionFailure)
    /// Credentials were missing or refused.
    case authentication(String)
    /// The token service at `realm` answered with an unexpected status.
    case tokenService(realm: String, status: Int)
    /// The registry broke the protocol (missing header, wrong digest, bad redirect).
    case protocolViolation(String)
    /// The registry asked for fresh credentials in the middle of a request that cannot be sent again as it
    /// was (a streamed upload); they were renewed for the next one.
    case credentialsRenewed
    /// The registry no longer knows an upload session (a try whose answer was lost used it, or it expired);
    /// a new session may pass.
    case uploadSessionLost
  }

  /// What hoist was doing, e.g. `upload blob sha256:… to localhost:5000/app`.
  public var operation: String
  /// The registry host.
  public var registry: String
  public var reason: Reason
  /// How many times the operation was tried before this error ended it.
  public var attempts: Int

  public init(operation: String, registry: String, reason: Reason, attempts: Int = 1) {
    self.operation = operation
    self.registry = registry
    self.reason = reason
    self.attempts = attempts
  }

  /// The HTTP status, when the registry answered with one.
  public var status: Int? {
    if case .status(let status, _) = reason { return status }
    return nil
  }

  /// The registry's first error code (`NAME_UNKNOWN`, `MANIFEST_INVALID`, …), if any.
  public var code: String? {
    if case .status(_, let codes) = reason { return codes.first?.code }
    return nil
  }

  /// The error codes the distribution spec defines for something that is not there.
  static let missingCodes: Set<String> = ["NAME_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UNKNOWN"]

  public var category: ErrorCategory {
    switch reason {
    case .status(let status, let codes):
      if status == 401 { return .unauthorized }
      if status == 403 { return .denied }
      if codes.contains(where: { $0.code == "BLOB_UPLOAD_UNKNOWN" }) { return .transient }
      if status == 404 || codes.contains(where: { Self.missingCodes.contains($0.code) }) { return .notFound }
      if PassingFailure.throttles(status: UInt(status), awsCode: nil) { return .throttled }
      return PassingFailure.status(UInt(status)) ? .transient : .rejected
    case .unreachable(let failure): return failure.category
    case .authentication: return .unauthorized
    case .tokenService(_, let status): return PassingFailure.status(UInt(status)) ? .transient : .protocolViolation
    case .protocolViolation: return .protocolViolation
    case .credentialsRenewed, .uploadSessionLost: return .transient
    }
  }

  public var description: String {
    let tried = attempts > 1 ? " (tried \(attempts) times)" : ""
    switch reason {
    case .status(let status, let codes):
      let detail = codes.map { "\($0.code): \($0.message)" }.joined(separator: "; ")
      return "\(operation): \(registry) answered HTTP \(status)\(detail.isEmpty ? "" : " \(detail)")\(tried)"
    case .unreachable(let failure): return "\(operation): cannot reach \(registry): \(failure)\(tried)"
    case .authentication(let why): return "\(operation): authentication with \(registry) failed: \(why)"
    case .tokenService(let realm, let status):
      return "\(operation): the token service \(realm) answered HTTP \(status)\(tried)"
    case .protocolViolation(let why): return "\(operation): \(registry) broke the protocol: \(why)"
    case .credentialsRenewed: return "\(operation): \(registry) asked for fresh credentials mid-request\(tried)"
    case .uploadSessionLost: return "\(operation): \(registry) no longer knows the upload session\(tried)"
    }
  }
}
