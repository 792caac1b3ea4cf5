import Foundation
import OCI

/// The Amazon ECR API (JSON 1.1 protocol, SigV4 service `ecr`, or `ecr-public` for ECR Public) for one registry.
public struct ECRClient: Sendable {
  public let host: ECRHost
  let http: AWSHTTP
  let endpoint: URL
  let signer: SigV4Signer

  /// A client for the registry `host`, signing with `credentials`, at the endpoint the environment configures.
  public init(host: ECRHost, credentials: AWSCredentials, environment: AWSEnvironment, http: AWSHTTP) throws {
    self.host = host
    self.http = http
    self.endpoint =
      try environment.configuredEndpoint(service: host.service)
      ?? AWSEnvironment.defaultEndpoint(host.defaultEndpoint, service: "ECR")
    self.signer = SigV4Signer(credentials: credentials, region: host.region, service: host.service)
  }

  func call(_ action: String, _ body: [String: Any], about subject: String) async throws -> [String: Any] {
    let prefix = host.isPublic ? "SpencerFrontendService" : "AmazonEC2ContainerRegistry_V20150921"
    var body = body
    if !host.isPublic && !host.account.isEmpty { body["registryId"] = host.account }
    return try await http.json(
      endpoint: endpoint, target: "\(prefix).\(action)", body: body, signer: signer,
      operation: "ECR \(action) \(subject)")
  }

  /// A registry login: the user (`AWS`) and password from `GetAuthorizationToken`, and when it expires.
  public struct AuthorizationToken: Sendable, Codable, Equatable {
    public var username: String
    public var password: String
    public var expiresAt: Date
  }

  /// `GetAuthorizationToken`: the token is base64 of `AWS:<password>`.
  public func authorizationToken() async throws -> AuthorizationToken {
    let answer = try await call(
      "GetAuthorizationToken", [:], about: "for \(host.isPublic ? "public.ecr.aws" : host.account)")
    let data =
      (answer["authorizationData"] as? [[String: Any]])?.first ?? (answer["authorizationData"] as? [String: Any])
    guard let encoded = data?["authorizationToken"] as? String,
      let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
      let colon = decoded.firstIndex(of: ":")
    else {
      throw AWSError.transport(operation: "ECR GetAuthorizationToken", reason: "the answer has no usable token")
    }
    let expires =
      (data?["expiresAt"] as? Double).map(Date.init(timeIntervalSince1970:)) ?? Date().addingTimeInterval(3600)
    return AuthorizationToken(
      username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]), expiresAt: expires
    )
  }

  /// A repository as ECR describes it.
  public struct Repository: Sendable, Equatable {
    public var name: String
    public var uri: String
    public var immutableTags: Bool
    public var scanOnPush: Bool
    public var createdAt: Date?

    init(_ object: [String: Any]) {
      name = object["repositoryName"] as? String ?? ""
      uri = object["repositoryUri"] as? String ?? ""
      immutableTags = (object["imageTagMutability"] as? String ?? "MUTABLE").hasPrefix("IMMUTABLE")
      scanOnPush = (object["imageScanningConfiguration"] as? [String: Any])?["scanOnPush"] as? Bool ?? false
      createdAt = (object["createdAt"] as? Double).map(Date.init(timeIntervalSince1970:))
    }
  }

  public func createRepository(_ name: String, immutableTags: Bool, scanOnPush: Bool) async throws -> Repository {
    var body: [String: Any] = ["repositoryName": name, "imageTagMutability": immutableTags ? "IMMUTABLE" : "MUTABLE"]
    if !host.isPublic { body["imageScanningConfiguration"] = ["scanOnPush": scanOnPush] }
    let answer = try await call("CreateRepository", body, about: name)
    return Repository(answer["repository"] as? [String: Any] ?? [:])
  }

  /// Makes sure the repository exists, creating it (mutable tags, no scan on push) when ECR says it does not.
  /// A create whose answer was lost and that is tried again meets the repository it made
  /// (`RepositoryAlreadyExistsException`), as does a create racing another writer: either way it exists.
  public func ensureRepository(_ name: String) async throws {
    guard try await describeRepository(name) == nil else { return }
    do {
      _ = try await createRepository(name, immutableTags: false, scanOnPush: false)
    } catch let error as AWSError where error.code == "RepositoryAlreadyExistsException" {
      return
    }
  }

  /// The repository, or nil when ECR says it does not exist.
  public func describeRepository(_ name: String) async throws -> Repository? {
    do {
      let answer = try await call("DescribeRepositories", ["repositoryNames": [name]], about: name)
      return (answer["repositories"] as? [[String: Any]])?.first.map(Repository.init)
    } catch let error as AWSError where error.code == "RepositoryNotFoundException" {
      return nil
    }
  }

  public func listRepositories() async throws -> [Repository] {
    try await paginate("DescribeRepositories", [:], key: "repositories", about: "in \(host.account)").map(
      Repository.init)
  }

  public func deleteRepository(_ name: String, force: Bool) async throws {
    _ = try await call("DeleteRepository", ["repositoryName": name, "force": force], about: name)
  }

  public func setPolicy(_ name: String, policy: String) async throws {
    _ = try await call("SetRepositoryPolicy", ["repositoryName": name, "policyText": policy], about: name)
  }

  /// The repository policy text, or nil when the repository has none.
  public func policy(_ name: String) async throws -> String? {
    do {
      return try await call("GetRepositoryPolicy", ["repositoryName": name], about: name)["policyText"] as? String
    } catch let error as AWSError where error.code == "RepositoryPolicyNotFoundException" {
      return nil
    }
  }

  public func deletePolicy(_ name: String) async throws {
    _ = try await call("DeleteRepositoryPolicy", ["repositoryName": name], about: name)
  }

  /// Sets the repository's lifecycle policy: which images ECR expires, and when.
  public func setLifecyclePolicy(_ name: String, policy: String) async throws {
    _ = try await call("PutLifecyclePolicy", ["repositoryName": name, "lifecyclePolicyText": policy], about: name)
  }

  /// The lifecycle policy text, or nil when the repository has none.
  public func lifecyclePolicy(_ name: String) async throws -> String? {
    do {
      return try await call("GetLifecyclePolicy", ["repositoryName": name], about: name)["lifecyclePolicyText"]
        as? String
    } catch let error as AWSError where error.code == "LifecyclePolicyNotFoundException" {
      return nil
    }
  }

  public func deleteLifecyclePolicy(_ name: String) async throws {
    _ = try await call("DeleteLifecyclePolicy", ["repositoryName": name], about: name)
  }

  /// An image as `DescribeImages` reports it.
  public struct Image: Sendable, Equatable {
    public var digest: String
    public var tags: [String]
    public var sizeInBytes: Int64
    public var pushedAt: Date?
    public var mediaType: String?
  }

  public func describeImages(_ name: String) async throws -> [Image] {
    try await paginate(
      "DescribeImages", ["repositoryName": name, "maxResults": 1000], key: "imageDetails", about: name
    ).map {
      Image(
        digest: $0["imageDigest"] as? String ?? "", tags: $0["imageTags"] as? [String] ?? [],
        sizeInBytes: ($0["imageSizeInBytes"] as? NSNumber)?.int64Value ?? 0,
        pushedAt: ($0["imagePushedAt"] as? Double).map(Date.init(timeIntervalSince1970:)),
        mediaType: $0["imageManifestMediaType"] as? String)
    }
  }

  /// Deletes an image by tag or digest; throws with ECR's failure reason when it refuses.
  public func deleteImage(_ name: String, tag: String?, digest: String?) async throws {
    var id = [String: String]()
    if let tag { id["imageTag"] = tag }
    if let digest { id["imageDigest"] = digest }
    let answer = try await call("BatchDeleteImage", ["repositoryName": name, "imageIds": [id]], about: name)
    if let failure = (answer["failures"] as? [[String: Any]])?.first {
      throw AWSError.service(
        operation: "ECR BatchDeleteImage \(name)", code: failure["failureCode"] as? String ?? "Failure",
        message: failure["failureReason"] as? String ?? "", status: 200)
    }
  }

  private func paginate(_ action: String, _ body: [String: Any], key: String, about subject: String) async throws
    -> [[String: Any]]
  {
    var items = [[String: Any]]()
    var next: String?
    var trail = PageTrail()
    repeat {
      var request = body
      if let next {
        try trail.visit(next, listing: "ECR \(action) \(subject)")
        request["nextToken"] = next
      }
      let answer = try await call(action, request, about: subject)
      items += answer[key] as? [[String: Any]] ?? []
      next = answer["nextToken"] as? String
    } while next != nil && items.count < 100_000
    return items
  }
}
