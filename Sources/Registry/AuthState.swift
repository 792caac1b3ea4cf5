import Foundation

/// Where a registry client gets its credentials; asked again with `refresh` when the registry says the
/// ones it has expired (ECR tokens live 12 hours).
public protocol CredentialProvider: Sendable {
  func credentials(refresh: Bool) async throws -> RegistryCredentials?
  /// Whether asking with `refresh` can give other credentials than before, so that a 403 is worth
  /// answering with fresh ones (an ECR login, which expires).
  var renewable: Bool { get }
}

extension CredentialProvider {
  public var renewable: Bool { false }
}

/// Credentials known up front (command line, docker config), or none.
public struct StaticCredentials: CredentialProvider {
  public let value: RegistryCredentials?
  public init(_ value: RegistryCredentials?) { self.value = value }
  public func credentials(refresh: Bool) async throws -> RegistryCredentials? { value }
}

/// What a client knows about authenticating with its registry: its credentials, the challenge it
/// answered, and Bearer tokens per scope until they expire.
actor AuthState {
  let provider: any CredentialProvider
  private var cached: RegistryCredentials??
  private(set) var challenge: Challenge?
  private var pinged = false
  private var pinging: Task<Void, any Error>?
  private var tokens = [String: (token: String, expires: Date)]()

  init(provider: any CredentialProvider) {
    self.provider = provider
  }

  /// The credentials, asked of the provider once.
  func credentials() async throws -> RegistryCredentials? {
    if let cached { return cached }
    let fetched = try await provider.credentials(refresh: false)
    cached = .some(fetched)
    return fetched
  }

  /// Asks the provider for fresh credentials and forgets every token made with the old ones.
  func refresh() async throws {
    cached = .some(try await provider.credentials(refresh: true))
    tokens = [:]
  }

  var hasCredentials: Bool { (cached ?? nil) != nil }

  func setChallenge(_ challenge: Challenge) {
    self.challenge = challenge
    pinged = true
  }

  func markPinged() { pinged = true }

  /// Runs `ping` unless it has succeeded: the first caller's ping serves every caller that comes while it
  /// is out (a push asks for four blobs at once); one that failed is tried again by the next caller.
  func pingOnce(_ ping: @escaping @Sendable () async throws -> Void) async throws {
    if pinged { return }
    if let pinging { return try await pinging.value }
    let task = Task { try await ping() }
    pinging = task
    defer { pinging = nil }
    try await task.value
  }

  func forget(scope: String?) { tokens[scope ?? ""] = nil }

  func token(scope: String?) -> String? {
    guard let cached = tokens[scope ?? ""], cached.expires > Date() else { return nil }
    return cached.token
  }

  func store(token: String, scope: String?, lifetime: TimeInterval) {
    tokens[scope ?? ""] = (token, Date().addingTimeInterval(max(lifetime - 10, 5)))
  }
}
