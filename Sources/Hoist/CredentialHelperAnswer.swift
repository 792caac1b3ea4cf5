import AWS
import ECR
import Foundation

/// What the Docker credential-helper protocol's `get` answers for a server: an ECR login from the AWS
/// credential chain, as amazon-ecr-credential-helper answers it.
public struct CredentialHelperAnswer: Codable, Sendable, Equatable {
  public var serverURL: String
  public var username: String
  public var secret: String

  enum CodingKeys: String, CodingKey {
    case serverURL = "ServerURL"
    case username = "Username"
    case secret = "Secret"
  }

  /// The answer for `serverURL` (as docker sends it, with or without a scheme and path), or nil when its
  /// host is not an ECR registry: only ECR logins are made here.
  public static func answer(serverURL: String, settings: SessionSettings) async throws -> CredentialHelperAnswer? {
    let url = serverURL.trimmingCharacters(in: .whitespacesAndNewlines)
    let host = Session.registryHost(url)
    guard ECRHost(host: host) != nil else { return nil }
    let token = try await Session.with(settings, hosts: [host]) { session in
      guard let ecr = session.ecr(host) else { throw ECRError.notECR(registry: host, command: "a login") }
      return try await ecr.login()
    }
    return CredentialHelperAnswer(serverURL: url, username: token.username, secret: token.password)
  }

  /// The answer as the protocol's JSON, keys sorted.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}
