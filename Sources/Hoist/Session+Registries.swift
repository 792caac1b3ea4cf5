import AWS
import ECR
import Foundation
import OCI
import Registry

/// What a session does with a registry besides copying: which of ECR's API and the distribution protocol
/// serves a request is decided here.
extension Session {
  /// The host a `login`/`logout`/`repo list` argument names (`https://` and any path dropped).
  public static func registryHost(_ text: String) -> String {
    var host = Substring(text)
    if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
    return String(host.split(separator: "/").first ?? host)
  }

  /// The ECR API for `registry`, refusing a registry that is not ECR (`command` is what was asked).
  public func ecrAPI(for registry: String, command: String) async throws -> ECRClient {
    guard let ecr = ecr(registry) else { throw ECRError.notECR(registry: registry, command: command) }
    return try await ecr.api()
  }

  /// A repository as listed: ECR says more than `/v2/_catalog` does.
  public struct Repository: Sendable {
    public var name: String
    public var uri: String?
    public var immutableTags: Bool?
    public var scanOnPush: Bool?
  }

  /// The repositories of a registry: ECR's API for an ECR host, `/v2/_catalog` elsewhere.
  public func repositories(of host: String) async throws -> [Repository] {
    if let ecr = ecr(host) {
      return try await ecr.api().listRepositories().map {
        Repository(name: $0.name, uri: $0.uri, immutableTags: $0.immutableTags, scanOnPush: $0.scanOnPush)
      }
    }
    return try await client(for: host).catalog().map { Repository(name: $0) }
  }

  /// Deletes an image by tag or digest: ECR's `BatchDeleteImage` (a tag alone, leaving the image to its
  /// other tags), elsewhere the manifest (a tag resolved to its digest first, as the spec requires).
  public func deleteImage(_ reference: Reference) async throws {
    guard reference.tag != nil || reference.digest != nil else { throw PlanError("name a tag or a digest") }
    if let ecr = ecr(reference.registry) {
      try await ecr.api().deleteImage(reference.repository, tag: reference.tag, digest: reference.digest?.description)
    } else {
      _ = try await client(for: reference).deleteManifest(
        repository: reference.repository, reference: reference.manifestReference)
    }
  }

  /// The digest each tag of a repository holds, in one call per page, where the registry can say so (ECR's
  /// `DescribeImages`): an empty map for a repository that does not exist; nil for a registry that is not
  /// ECR, or when ECR would not answer (no `ecr:DescribeImages`), where each tag must be asked for.
  public func taggedDigests(registry: String, repository: String) async -> [String: Digest]? {
    guard let ecr = ecr(registry) else { return nil }
    do {
      var digests = [String: Digest]()
      for image in try await ecr.api().describeImages(repository) {
        guard let digest = try? Digest(image.digest) else { continue }
        for tag in image.tags { digests[tag] = digest }
      }
      return digests
    } catch let error as AWSError where error.code == "RepositoryNotFoundException" {
      return [:]
    } catch {
      return nil
    }
  }

  /// Checks a login to `host` and returns the credentials to store for it: an ECR login from the AWS chain
  /// when no user was given for an ECR host, else those the session has for it.
  public func login(to host: String, userGiven: Bool) async throws -> RegistryCredentials? {
    if !userGiven && ECRHost(host: host) == nil {
      throw PlanError("give --username and --password-stdin (only ECR registries log in without them)")
    }
    try await client(for: host, endpoint: host == "docker.io" ? "registry-1.docker.io" : nil).checkLogin()
    if !userGiven, let ecr = ecr(host) {
      let token = try await ecr.login()
      return RegistryCredentials(username: token.username, password: token.password)
    }
    return try credentials.credentials(for: host)
  }

  /// The password `docker login --username AWS` wants for an ECR registry, or, without one, for the
  /// caller's own registry in the session's region.
  public func ecrLoginPassword(registry: String?) async throws -> String {
    let host: ECRHost
    if let registry {
      guard let parsed = ECRHost(host: Self.registryHost(registry)) else {
        throw ECRError.notECR(registry: registry, command: "hoist ecr get-login-password")
      }
      host = parsed
    } else {
      guard let region = try aws.environment.region() else { throw AWSError.noRegion }
      host = ECRHost(region: region)
    }
    return try await ECRAccess(host: host, registry: registry ?? "", session: aws, cache: tokenCache).login().password
  }

  /// The document `hoist inspect` shows: the manifest or index a reference names (the platform's, when
  /// given), or the image's config.
  public func inspected(_ reference: Reference, platform: String?, config: Bool) async throws -> Data {
    let source = try registrySource(reference, platform: platform, wholeIndex: platform == nil && !config)
    let root = try await source.root()
    if !config { return root.bytes }
    guard MediaType.isManifest(root.descriptor.mediaType) else {
      throw PlanError("\(reference) is not an image manifest")
    }
    return try await source.document(try Manifest.decode(root.bytes, what: reference.description).config)
  }
}

/// The two policies an ECR repository keeps: who may use it (`access`), and which images it expires
/// (`lifecycle`).
public enum RepositoryPolicyKind: Sendable {
  case access, lifecycle

  /// How messages name it.
  public var noun: String { self == .access ? "policy" : "lifecycle policy" }

  /// Its `hoist repo` subcommand.
  public var command: String { self == .access ? "hoist repo policy" : "hoist repo lifecycle" }

  /// Reads a policy document from `file`: it must be a JSON object, and a lifecycle policy one of the shape
  /// ECR takes.
  public func document(file: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw PlanError("\(file): cannot read the \(noun) file")
    }
    guard let policy = JSONValue.read(data), policy.object != nil else {
      throw PlanError("\(file): the \(noun) is not a JSON object")
    }
    if self == .lifecycle, let problem = LifecyclePolicyShape.problem(in: policy) {
      throw PlanError("\(file): not a lifecycle policy ECR takes: \(problem)")
    }
    return String(decoding: data, as: UTF8.self)
  }

  public func set(_ text: String, on repository: String, _ api: ECRClient) async throws {
    switch self {
    case .access: try await api.setPolicy(repository, policy: text)
    case .lifecycle: try await api.setLifecyclePolicy(repository, policy: text)
    }
  }

  /// The policy's text, or nil when the repository has none.
  public func get(_ repository: String, _ api: ECRClient) async throws -> String? {
    switch self {
    case .access: try await api.policy(repository)
    case .lifecycle: try await api.lifecyclePolicy(repository)
    }
  }

  public func delete(_ repository: String, _ api: ECRClient) async throws {
    switch self {
    case .access: try await api.deletePolicy(repository)
    case .lifecycle: try await api.deleteLifecyclePolicy(repository)
    }
  }
}
