import AWS
import Foundation
import OCI
import Registry

/// What hoist does for an Amazon ECR registry beyond the distribution protocol: logging in from the AWS
/// credential chain, making sure a repository exists, and explaining ECR's failures.
public struct ECRAccess: Sendable {
  public let host: ECRHost
  public let registry: String
  let session: AWSSession
  let cache: ECRTokenCache?

  /// Access to the ECR registry `registry` (a host name ECR recognises); `cache` nil keeps logins in memory only.
  public init(host: ECRHost, registry: String, session: AWSSession, cache: ECRTokenCache?) {
    self.host = host
    self.registry = registry
    self.session = session
    self.cache = cache
  }

  /// How ECR departs from the distribution spec: its upload `Range` is not to be trusted, manifests need
  /// their `mediaType` field, chunks are at least 5 MiB and accepted with 201, and its failures are put in
  /// words through the ECR API. (Its redirects of blob reads to S3 need nothing beyond `Redirects`.)
  /// `createRepositories` creates a missing repository before the first push to it.
  public func profile(createRepositories: Bool = false) -> RegistryProfile {
    let access = self
    var profile = RegistryProfile(
      reportsUploadOffsets: false, requiresManifestMediaType: true, minimumChunkSize: 5 << 20,
      chunkAccepted: [201, 202])
    profile.explain = { @Sendable error, repository in await access.explain(error, repository: repository) }
    if createRepositories {
      profile.prepareRepository = { @Sendable repository in try await access.ensureRepository(repository) }
    }
    return profile
  }

  /// The registry login, from the cache or `GetAuthorizationToken`.
  public func login(refresh: Bool = false) async throws -> ECRClient.AuthorizationToken {
    let credentials = try await session.credentials()
    let key = ECRTokenCache.key(host: host, credentials: credentials)
    if !refresh, let cached = cache?.token(for: key) { return cached }
    let token = try await session.ecr(host).authorizationToken()
    cache?.store(token, for: key)
    return token
  }

  /// The ECR API for this registry.
  public func api() async throws -> ECRClient { try await session.ecr(host) }

  /// Creates the repository unless it exists.
  public func ensureRepository(_ name: String) async throws { try await api().ensureRepository(name) }

  /// Says plainly what a failed push to `repository` means, where ECR's answer is cryptic: a missing
  /// repository (`NAME_UNKNOWN`, or a dropped connection) or an immutable tag; nil when neither.
  func explain(_ error: RegistryError, repository: String) async -> (any Error)? {
    if error.code == "TAG_INVALID" {
      return ECRError.immutableTag(registry: registry, repository: repository, message: error.description)
    }
    let dropped: Bool
    if case .unreachable = error.reason { dropped = true } else { dropped = false }
    guard error.code == "NAME_UNKNOWN" || dropped,
      let exists = try? await api().describeRepository(repository).map({ _ in true }) ?? false, !exists
    else { return nil }
    return ECRError.repositoryMissing(registry: registry, repository: repository)
  }
}

/// Credentials for an ECR registry, logged in from the AWS credential chain.
public struct ECRCredentialProvider: CredentialProvider {
  let access: ECRAccess
  /// Credentials to fall back on when the chain has none (docker config).
  let fallback: RegistryCredentials?

  public init(access: ECRAccess, fallback: RegistryCredentials?) {
    self.access = access
    self.fallback = fallback
  }

  public var renewable: Bool { true }

  public func credentials(refresh: Bool) async throws -> RegistryCredentials? {
    let token: ECRClient.AuthorizationToken
    do {
      token = try await access.login(refresh: refresh)
    } catch AWSError.noCredentials(let why) {
      if let fallback { return fallback }
      throw AWSError.noCredentials(why)
    }
    if access.host.isPublic {
      return RegistryCredentials(username: token.username, password: token.password, registryToken: token.password)
    }
    return RegistryCredentials(username: token.username, password: token.password)
  }
}

/// ECR failures put in a user's words.
public enum ECRError: CategorizedError, CustomStringConvertible {
  case repositoryMissing(registry: String, repository: String)
  case immutableTag(registry: String, repository: String, message: String)
  case notECR(registry: String, command: String)

  public var description: String {
    switch self {
    case .repositoryMissing(let registry, let repository):
      "repository \(repository) does not exist in registry \(registry): create it with "
        + "`hoist repo create \(registry)/\(repository)` or push with --create-repository"
    case .immutableTag(_, let repository, let message):
      "\(message) (repository \(repository) has immutable tags: push under a new tag)"
    case .notECR(let registry, let command):
      "\(command) works with Amazon ECR registries only, and \(registry) is not one"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .repositoryMissing: .notFound
    case .immutableTag: .rejected
    case .notECR: .invalidInput
    }
  }
}
