import AWS
import ECR
import Foundation
import Registry

/// What the Docker credential-helper protocol's `get` answers for a server: an ECR login from the AWS
/// credential chain, as amazon-ecr-credential-helper answers it.
public enum CredentialHelperAnswer {
  /// The answer for `serverURL` (as docker sends it, with or without a scheme and path), or nil when its
  /// host is not an ECR registry: only ECR logins are made here.
  public static func answer(serverURL: String, settings: SessionSettings) async throws -> HelperCredentials? {
    let url = serverURL.trimmingCharacters(in: .whitespacesAndNewlines)
    let host = Session.registryHost(url)
    guard ECRHost(host: host) != nil else { return nil }
    let token = try await Session.with(settings, hosts: [host]) { session in
      guard let ecr = session.ecr(host) else { throw ECRError.notECR(registry: host, command: "a login") }
      return try await ecr.login()
    }
    return HelperCredentials(serverURL: url, username: token.username, secret: token.password)
  }
}
