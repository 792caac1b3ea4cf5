import Foundation

/// One process's view of AWS: the environment, the HTTP transport, and the credentials the chain
/// resolved (resolved once, again when they expire).
public actor AWSSession {
  public nonisolated let environment: AWSEnvironment
  public nonisolated let http: AWSHTTP
  private var resolved: AWSCredentials?

  public init(environment: AWSEnvironment, http: AWSHTTP) {
    self.environment = environment
    self.http = http
  }

  /// The credentials, resolved through the chain on first use and again within five minutes of expiry.
  public func credentials() async throws -> AWSCredentials {
    if let resolved, (resolved.expiration ?? .distantFuture) > Date().addingTimeInterval(300) { return resolved }
    let fresh = try await CredentialChain(environment: environment, http: http).resolve()
    resolved = fresh
    return fresh
  }

  /// An ECR API client for a registry, signed with the session's credentials.
  public func ecr(_ host: ECRHost) async throws -> ECRClient {
    try ECRClient(host: host, credentials: try await credentials(), environment: environment, http: http)
  }
}
