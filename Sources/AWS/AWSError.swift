import OCI
import Transport

/// What went wrong talking to AWS or finding credentials.
public enum AWSError: CategorizedError, CustomStringConvertible {
  /// An AWS API answered with an error code (`RepositoryNotFoundException`, `AccessDenied`, …).
  case service(operation: String, code: String, message: String, status: Int)
  /// No credential source in the chain had credentials.
  case noCredentials(String)
  /// A credential source was configured but failed.
  case credentialSource(source: String, reason: String)
  /// A region could not be determined.
  case noRegion
  /// The endpoint answered something unreadable.
  case transport(operation: String, reason: String)
  /// The endpoint could not be reached.
  case unreachable(operation: String, host: String, ConnectionFailure)

  public var description: String {
    switch self {
    case .service(let operation, let code, let message, let status):
      var text = "\(operation): AWS answered HTTP \(status) \(code)"
      if !message.isEmpty { text += ": \(message)" }
      if let action = AWSError.missingAction(in: message) {
        text += " (the IAM permission \(action) is missing)"
      }
      return text
    case .noCredentials(let why): return "no AWS credentials found: \(why)"
    case .credentialSource(let source, let reason): return "AWS credentials from \(source): \(reason)"
    case .noRegion: return "no AWS region: use --region, AWS_REGION or a profile's region"
    case .transport(let operation, let reason): return "\(operation): \(reason)"
    case .unreachable(let operation, let host, let failure): return "\(operation): cannot reach \(host): \(failure)"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .service(_, let code, _, let status):
      if code.hasSuffix("NotFoundException") { return .notFound }
      if status == 401 || Self.credentialCodes.contains(code) { return .unauthorized }
      if status == 403 || code.hasPrefix("AccessDenied") { return .denied }
      if status == 429 || PassingFailure.throttlingCodes.contains(code) { return .throttled }
      if PassingFailure.status(UInt(status)) { return .transient }
      return .rejected
    case .noCredentials, .credentialSource: return .unauthorized
    case .noRegion: return .invalidInput
    case .transport: return .protocolViolation
    case .unreachable(_, _, let failure): return failure.category
    }
  }

  /// The codes AWS answers for credentials it does not accept (as opposed to ones without a permission).
  static let credentialCodes: Set<String> = [
    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature",
  ]

  /// The error code, when AWS gave one.
  public var code: String? {
    if case .service(_, let code, _, _) = self { return code }
    return nil
  }

  /// The IAM action an access-denied message names (`… not authorized to perform: ecr:CreateRepository …`).
  static func missingAction(in message: String) -> String? {
    guard let range = message.range(of: "perform: ") else { return nil }
    let action = message[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," }
    return action.contains(":") ? String(action) : nil
  }
}
