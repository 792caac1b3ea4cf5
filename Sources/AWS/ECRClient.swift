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

  func call<Answer: Decodable>(
    _ action: String, _ body: [String: JSONValue], about subject: String, answer: Answer.Type = ECRAnswer.Ignored.self
  ) async throws -> Answer {
    let prefix = host.isPublic ? "SpencerFrontendService" : "AmazonEC2ContainerRegistry_V20150921"
    var body = body
    if !host.isPublic && !host.account.isEmpty { body["registryId"] = .string(host.account) }
    return try await http.json(
      endpoint: endpoint, target: "\(prefix).\(action)", body: body, signer: signer,
      operation: "ECR \(action) \(subject)", answer: answer)
  }

  /// A registry login: the user (`AWS`) and password from `GetAuthorizationToken`, and when it expires.
  public struct AuthorizationToken: Sendable, Codable, Equatable {
    public var username: String
    public var password: String
    public var expiresAt: Date
  }

  /// `GetAuthorizationToken`: the token is base64 of `AWS:<password>`.
  public func authorizationToken() async throws -> AuthorizationToken {
    let data = try await call(
      "GetAuthorizationToken", [:], about: "for \(host.isPublic ? "public.ecr.aws" : host.account)",
      answer: ECRAnswer.Authorization.self
    ).data
    guard let encoded = data?.authorizationToken,
      let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
      let colon = decoded.firstIndex(of: ":")
    else {
      throw AWSError.transport(operation: "ECR GetAuthorizationToken", reason: "the answer has no usable token")
    }
    let expires = data?.expiresAt.map(Date.init(timeIntervalSince1970:)) ?? Date().addingTimeInterval(3600)
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

    init(_ answer: ECRAnswer.Repository?) {
      name = answer?.repositoryName ?? ""
      uri = answer?.repositoryUri ?? ""
      immutableTags = (answer?.imageTagMutability ?? "MUTABLE").hasPrefix("IMMUTABLE")
      scanOnPush = answer?.imageScanningConfiguration?.scanOnPush ?? false
      createdAt = answer?.createdAt.map(Date.init(timeIntervalSince1970:))
    }
  }

  public func createRepository(_ name: String, immutableTags: Bool, scanOnPush: Bool) async throws -> Repository {
    var body: [String: JSONValue] = [
      "repositoryName": .string(name), "imageTagMutability": immutableTags ? "IMMUTABLE" : "MUTABLE",
    ]
    if !host.isPublic { body["imageScanningConfiguration"] = ["scanOnPush": .bool(scanOnPush)] }
    return Repository(
      try await call("CreateRepository", body, about: name, answer: ECRAnswer.CreatedRepository.self).repository)
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
      let answer = try await call(
        "DescribeRepositories", ["repositoryNames": [.string(name)]], about: name, answer: ECRAnswer.Repositories.self)
      return answer.items.first.map(Repository.init)
    } catch let error as AWSError where error.code == "RepositoryNotFoundException" {
      return nil
    }
  }

  public func listRepositories() async throws -> [Repository] {
    try await paginate("DescribeRepositories", [:], about: "in \(host.account)", page: ECRAnswer.Repositories.self)
      .map(Repository.init)
  }

  public func deleteRepository(_ name: String, force: Bool) async throws {
    _ = try await call("DeleteRepository", ["repositoryName": .string(name), "force": .bool(force)], about: name)
  }

  public func setPolicy(_ name: String, policy: String) async throws {
    _ = try await call(
      "SetRepositoryPolicy", ["repositoryName": .string(name), "policyText": .string(policy)], about: name)
  }

  /// The repository policy text, or nil when the repository has none.
  public func policy(_ name: String) async throws -> String? {
    do {
      return try await call(
        "GetRepositoryPolicy", ["repositoryName": .string(name)], about: name, answer: ECRAnswer.PolicyText.self
      ).policyText
    } catch let error as AWSError where error.code == "RepositoryPolicyNotFoundException" {
      return nil
    }
  }

  public func deletePolicy(_ name: String) async throws {
    _ = try await call("DeleteRepositoryPolicy", ["repositoryName": .string(name)], about: name)
  }

  /// Sets the repository's lifecycle policy: which images ECR expires, and when.
  public func setLifecyclePolicy(_ name: String, policy: String) async throws {
    _ = try await call(
      "PutLifecyclePolicy", ["repositoryName": .string(name), "lifecyclePolicyText": .string(policy)], about: name)
  }

  /// The lifecycle policy text, or nil when the repository has none.
  public func lifecyclePolicy(_ name: String) async throws -> String? {
    do {
      return try await call(
        "GetLifecyclePolicy", ["repositoryName": .string(name)], about: name, answer: ECRAnswer.PolicyText.self
      ).lifecyclePolicyText
    } catch let error as AWSError where error.code == "LifecyclePolicyNotFoundException" {
      return nil
    }
  }

  public func deleteLifecyclePolicy(_ name: String) async throws {
    _ = try await call("DeleteLifecyclePolicy", ["repositoryName": .string(name)], about: name)
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
      "DescribeImages", ["repositoryName": .string(name), "maxResults": 1000], about: name, page: ECRAnswer.Images.self
    ).map {
      Image(
        digest: $0.imageDigest ?? "", tags: $0.imageTags ?? [], sizeInBytes: $0.imageSizeInBytes ?? 0,
        pushedAt: $0.imagePushedAt.map(Date.init(timeIntervalSince1970:)), mediaType: $0.imageManifestMediaType)
    }
  }

  /// Deletes an image by tag or digest; throws with ECR's failure reason when it refuses.
  public func deleteImage(_ name: String, tag: String?, digest: String?) async throws {
    var id = [String: JSONValue]()
    if let tag { id["imageTag"] = .string(tag) }
    if let digest { id["imageDigest"] = .string(digest) }
    let answer = try await call(
      "BatchDeleteImage", ["repositoryName": .string(name), "imageIds": [.object(id)]], about: name,
      answer: ECRAnswer.BatchDelete.self)
    if let failure = answer.failures?.first {
      throw AWSError.service(
        operation: "ECR BatchDeleteImage \(name)", code: failure.failureCode ?? "Failure",
        message: failure.failureReason ?? "", status: 200)
    }
  }

  /// Every item of a listing ECR answers in pages, following `nextToken` (a token seen before stops it).
  private func paginate<Page: ECRPage>(
    _ action: String, _ body: [String: JSONValue], about subject: String, page: Page.Type
  ) async throws -> [Page.Item] {
    var items = [Page.Item]()
    var next: String?
    var trail = PageTrail()
    repeat {
      var request = body
      if let next {
        try trail.visit(next, listing: "ECR \(action) \(subject)")
        request["nextToken"] = .string(next)
      }
      let answer = try await call(action, request, about: subject, answer: Page.self)
      items += answer.items
      next = answer.nextToken
    } while next != nil && items.count < 100_000
    return items
  }
}
