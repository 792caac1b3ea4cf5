import Foundation

/// The credential JSON a `credential_process` prints (`SessionToken`) and the container and instance
/// metadata endpoints answer (`Token`, `RoleArn`).
struct CredentialDocument: Decodable {
  var accessKeyID: String?
  var secretAccessKey: String?
  var sessionToken: String?
  var token: String?
  var expiration: String?
  var roleARN: String?

  enum CodingKeys: String, CodingKey {
    case accessKeyID = "AccessKeyId"
    case secretAccessKey = "SecretAccessKey"
    case sessionToken = "SessionToken"
    case token = "Token"
    case expiration = "Expiration"
    case roleARN = "RoleArn"
  }

  /// Reads every member as a string where it is one, and as absent where it is not (a numeric
  /// `Expiration` does not make the keys unreadable).
  init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    func text(_ key: CodingKeys) -> String? { try? container.decodeIfPresent(String.self, forKey: key) }
    accessKeyID = text(.accessKeyID)
    secretAccessKey = text(.secretAccessKey)
    sessionToken = text(.sessionToken)
    token = text(.token)
    expiration = text(.expiration)
    roleARN = text(.roleARN)
  }

  /// The document in `data`, when it is one with both keys.
  static func read(_ data: Data) -> (document: CredentialDocument, key: String, secret: String)? {
    guard let document = try? JSONDecoder().decode(CredentialDocument.self, from: data),
      let key = document.accessKeyID, let secret = document.secretAccessKey
    else { return nil }
    return (document, key, secret)
  }
}

/// A login the AWS CLI keeps in `~/.aws/sso/cache/<sha1>.json`, as far as hoist reads it.
struct SSOCachedLogin: Decodable {
  var accessToken: String?
  var expiresAt: String?
}

/// The SSO portal's `GetRoleCredentials` answer.
struct SSORoleCredentials: Decodable {
  struct Credentials: Decodable {
    var accessKeyId: String?
    var secretAccessKey: String?
    var sessionToken: String?
    /// Milliseconds since 1970.
    var expiration: Double?
  }
  var roleCredentials: Credentials?
}
