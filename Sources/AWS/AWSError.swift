/// What went wrong talking to AWS or finding credentials.
public enum AWSError: Error, CustomStringConvertible, Equatable {
  /// An AWS API answered with an error code (`RepositoryNotFoundException`, `AccessDenied`, …).
  case service(operation: String, code: String, message: String, status: Int)
  /// No credential source in the chain had credentials.
  case noCredentials(String)
  /// A credential source was configured but failed.
  case credentialSource(source: String, reason: String)
  /// A region could not be determined.
  case noRegion
  /// The endpoint could not be reached or answered something unreadable.
  case transport(operation: String, reason: String)

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
    }
  }

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
