import AWS
import AsyncHTTPClient
import ECR
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Streams
import Synchronization
import TestSupport
import Testing
import Transfer
import Transport

@testable import Registry

/// A one-layer OCI image in memory, its layer of a known size (so it goes up in chunks).
struct TinyImage: ImageSource {
  let blobs: [Digest: Data]
  let manifest: Descriptor
  let layer: Descriptor

  var description: String { "tiny image" }

  init(layerSize: Int) {
    var state = UInt64.random(in: 1...UInt64.max)
    var bytes = [UInt8](repeating: 0, count: layerSize)
    for i in 0..<layerSize {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      bytes[i] = UInt8(truncatingIfNeeded: state)
    }
    let layerData = Data(bytes)
    let configData = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
    func describe(_ data: Data, _ type: String) -> Descriptor {
      Descriptor(mediaType: type, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(data))), size: Int64(data.count))
    }
    layer = describe(layerData, MediaType.ociLayerGzip)
    let config = describe(configData, MediaType.ociConfig)
    let manifestData = Manifest(mediaType: MediaType.ociManifest, config: config, layers: [layer]).encoded()
    manifest = describe(manifestData, MediaType.ociManifest)
    blobs = [layer.digest: layerData, config.digest: configData, manifest.digest: manifestData]
  }

  func root() async throws -> RootDocument { RootDocument(descriptor: manifest, bytes: blobs[manifest.digest]!) }
  func document(_ descriptor: Descriptor) async throws -> Data { blobs[descriptor.digest]! }
  func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader { DataReader(blobs[descriptor.digest]!) }
}

actor DataReader: BlobReader {
  var data: Data
  init(_ data: Data) { self.data = data }
  func read(maxLength: Int) async throws -> [UInt8] {
    let chunk = data.prefix(maxLength)
    data = data.dropFirst(chunk.count)
    return Array(chunk)
  }
}

/// An ECR-like login: renewable, with a new password after each refresh.
final class RenewingLogin: CredentialProvider {
  let refreshes = Mutex(0)
  var renewable: Bool { true }
  func credentials(refresh: Bool) async throws -> RegistryCredentials? {
    let count = refreshes.withLock {
      if refresh { $0 += 1 }
      return $0
    }
    return RegistryCredentials(username: "AWS", password: count == 0 ? "first" : "renewed")
  }
}

/// Backoff short enough for unit tests.
func quickPolicy(_ retries: Int) -> RetryPolicy { RetryPolicy(attempts: retries, baseDelay: 0.002, maximumDelay: 0.02) }

func makeClient(
  _ fake: FakeRegistry, retries: Int = 3, credentials: any CredentialProvider = StaticCredentials(nil),
  profile: RegistryProfile = .standard, policy: RetryPolicy? = nil, sender: (any HTTPSender)? = nil
) -> RegistryClient {
  var options = TransportOptions()
  options.plainHTTPHosts = ["registry.test"]
  options.retryPolicy = policy ?? quickPolicy(retries)
  return RegistryClient(
    host: "registry.test", http: sender ?? fake, options: options, credentials: credentials, profile: profile)
}

/// Pushes `image` to `repo:1` through the copy engine, as `hoist push` does.
@discardableResult
func push(
  _ image: TinyImage, to client: RegistryClient, retries: Int = 3, chunkSize: Int = 64 << 10
) async throws -> Descriptor {
  var options = CopyOptions()
  options.retryPolicy = quickPolicy(retries)
  let destination = RegistryDestination(client: client, repository: "repo", chunkSize: chunkSize)
  return try await CopyEngine(options: options).run([
    ImageCopy(source: { image }, targets: [CopyTarget(destination: destination, tags: ["1"])])
  ])[0]
}

@Suite struct RequestPathTests {
  @Test func thePingAndTheTokenRequestAreTriedAgain() async throws {
    let fake = FakeRegistry(
      auth: .bearer,
      faults: [
        .init(method: .GET, path: "/v2/", failure: .status(500, retryAfter: nil)),
        .init(method: .GET, path: "/v2/", failure: .status(429, retryAfter: "0")),
        .init(method: .GET, path: "/token", failure: .reset),
        .init(method: .GET, path: "/token", failure: .status(503, retryAfter: nil)),
      ])
    // Four failures, one budget: five retries leave one to spare.
    #expect(try await makeClient(fake, retries: 5).manifest(repository: "repo", reference: "missing") == nil)
    #expect(fake.count(.GET, "/token") == 3)
    #expect(fake.log.filter { URLComponents(string: $0.url)?.path == "/v2/" }.count == 3)
  }

  @Test func a401FetchesATokenAndTriesAgain() async throws {
    let fake = FakeRegistry(auth: .bearer)
    let client = makeClient(fake)
    #expect(try await client.manifest(repository: "repo", reference: "1") == nil)
    fake.expireLogin()
    #expect(try await client.manifest(repository: "repo", reference: "1") == nil)
    #expect(fake.count(.GET, "/token") == 2)
    // The first, with the token that had expired, and the same request again with the new one.
    #expect(fake.count(.GET, "/manifests/1") == 3)
  }

  @Test func anExpiredLoginIsRenewedInTheMiddleOfAPush() async throws {
    let fake = FakeRegistry(auth: .basic(password: "first"))
    fake.expireLogin(afterRequests: 6)
    let login = RenewingLogin()
    let image = TinyImage(layerSize: 200 << 10)
    let stored = try await push(image, to: makeClient(fake, credentials: login))
    #expect(stored.digest == image.manifest.digest)
    #expect(login.refreshes.withLock { $0 } == 1)
    #expect(fake.blob(image.layer.digest) == Array(image.blobs[image.layer.digest]!))
  }

  @Test func aStreamedRequestRefusedForExpiredCredentialsGoesOnceAndFailsAsPassing() async throws {
    let fake = FakeRegistry(auth: .basic(password: "first"))
    let login = RenewingLogin()
    let client = makeClient(fake, credentials: login)
    #expect(try await client.manifest(repository: "repo", reference: "1") == nil)
    fake.expireLogin()
    var request = HTTPClientRequest(url: client.url("repo/blobs/uploads/session"))
    request.method = .PATCH
    request.body = .bytes(ByteBuffer(string: "chunk"))
    do {
      _ = try await client.sendOnce(
        operation: "send a chunk", scope: RegistryClient.pushScope("repo"), budget: nil, request)
      Issue.record("a refused streamed request was sent again")
    } catch let error as RegistryError {
      guard case .credentialsRenewed = error.reason else { throw error }
    }
    #expect(login.refreshes.withLock { $0 } == 1)
    #expect(fake.count(.PATCH, "/blobs/uploads/") == 1)
  }

  @Test func tooManyRequestsIsWaitedOutWithAndWithoutRetryAfter() async throws {
    let fake = FakeRegistry(faults: [
      .init(method: .HEAD, path: "/blobs/", failure: .status(429, retryAfter: "1")),
      .init(method: .HEAD, path: "/blobs/", failure: .status(429, retryAfter: nil)),
    ])
    let started = Date()
    // Retry-After is honoured up to twice the longest backoff.
    let policy = RetryPolicy(attempts: 3, baseDelay: 0.002, maximumDelay: 1)
    #expect(
      try await makeClient(fake, policy: policy).blobExists(
        repository: "repo", digest: TinyImage(layerSize: 1).layer.digest) == false)
    #expect(Date().timeIntervalSince(started) >= 0.9)
    #expect(fake.count(.HEAD, "/blobs/") == 3)
  }

  static let faultyRequests: [(HTTPMethod, String)] = [
    (.GET, "/v2/"), (.HEAD, "/blobs/"), (.POST, "/blobs/uploads/"), (.PATCH, "/blobs/uploads/"),
    (.PUT, "/blobs/uploads/"), (.PUT, "/manifests/"),
  ]

  @Test(arguments: faultyRequests, [500, 503, 0])
  func aPassingFaultOnAnyRequestIsTriedAgain(request: (HTTPMethod, String), status: Int) async throws {
    let failure: FakeRegistry.Failure = status == 0 ? .reset : .status(UInt(status), retryAfter: nil)
    let fake = FakeRegistry(faults: [.init(method: request.0, path: request.1, failure: failure, times: 2)])
    let image = TinyImage(layerSize: 200 << 10)
    let stored = try await push(image, to: makeClient(fake))
    #expect(stored.digest == image.manifest.digest)
    #expect(fake.manifest("repo", "1") == Array(image.blobs[image.manifest.digest]!))
    #expect(fake.blob(image.layer.digest) == Array(image.blobs[image.layer.digest]!))
  }

  @Test func aLoneRequestIsTriedRetriesPlusOneTimes() async throws {
    let fake = FakeRegistry(faults: [
      .init(method: .HEAD, path: "/blobs/", failure: .status(503, retryAfter: nil), times: nil)
    ])
    await #expect {
      try await makeClient(fake, retries: 4).blobExists(
        repository: "repo", digest: TinyImage(layerSize: 1).layer.digest)
    } throws: { error in
      ErrorCategory(of: error) == .transient && "\(error)".contains("tried 5 times")
    }
    #expect(fake.count(.HEAD, "/blobs/") == 5)
  }

  @Test func aRegistryThatRefusesEveryUploadIsGivenUpOnWithinTheBound() async throws {
    let fake = FakeRegistry(faults: [
      .init(method: .POST, path: "/blobs/uploads/", failure: .status(503, retryAfter: nil), times: nil)
    ])
    let started = Date()
    await #expect {
      try await push(TinyImage(layerSize: 1000), to: makeClient(fake), retries: 3)
    } throws: { error in
      "\(error)".contains("tried 4 times")
    }
    // One budget for the blob: 4 tries in all, not 4 sessions of 4 requests each.
    #expect(fake.count(.POST, "/blobs/uploads/") == 4)
    // Loose: a hang, not a speed (the suite runs many tests at once on two cores).
    #expect(Date().timeIntervalSince(started) < quickPolicy(3).longestBackoff + 30)
  }

  @Test func requestsThatStartTogetherShareOnePing() async throws {
    let fake = FakeRegistry()
    let client = makeClient(fake)
    let digests = (1...4).map { TinyImage(layerSize: $0).layer.digest }
    try await withThrowingTaskGroup(of: Bool.self) { group in
      for digest in digests { group.addTask { try await client.blobExists(repository: "repo", digest: digest) } }
      while try await group.next() != nil {}
    }
    #expect(fake.log.filter { $0.method == .GET && $0.url.hasSuffix("/v2/") }.count == 1)
  }

  @Test func aSmallBlobGoesInTheFinalPutAndALargerOneStreams() async throws {
    let fake = FakeRegistry()
    let small = TinyImage(layerSize: 100 << 10)
    try await push(small, to: makeClient(fake))
    #expect(fake.blob(small.layer.digest) == Array(small.blobs[small.layer.digest]!))
    #expect(fake.count(.PATCH, "/blobs/uploads/") == 0)
    let large = TinyImage(layerSize: 300 << 10)
    try await push(large, to: makeClient(fake))
    #expect(fake.blob(large.layer.digest) == Array(large.blobs[large.layer.digest]!))
    #expect(fake.count(.PATCH, "/blobs/uploads/") == 5)  // 64 KiB chunks
  }

  @Test func theDefaultBoundIsDocumented() {
    #expect(abs(RetryPolicy().longestBackoff - 18.6) < 0.01)
  }

  @Test func aFailedChunkContinuesWhereTheRegistrySays() async throws {
    let fake = FakeRegistry(faults: [
      .init(method: .PATCH, path: "/blobs/uploads/", failure: .cut(keeping: 1000), skip: 1)
    ])
    let image = TinyImage(layerSize: 400 << 10)
    try await push(image, to: makeClient(fake))
    #expect(fake.blob(image.layer.digest) == Array(image.blobs[image.layer.digest]!))
    // The same session, asked how far it got, then sent only the rest.
    #expect(fake.count(.POST, "/blobs/uploads/") == 2)  // the layer's session and the config's
    #expect(fake.count(.GET, "/blobs/uploads/") == 1)
    let sent = fake.log.filter { $0.method == .PATCH }.map(\.bodySize).reduce(0, +)
    #expect(sent == (400 << 10) + (64 << 10) - 1000)
  }

  @Test func onECRAFailedChunkStartsANewSessionSinceItsRangeIsNotTrusted() async throws {
    let fake = FakeRegistry(
      ecr: true, faults: [.init(method: .PATCH, path: "/blobs/uploads/", failure: .reset, skip: 1)])
    let profile = RegistryProfile(reportsUploadOffsets: false, minimumChunkSize: 5 << 20, chunkAccepted: [201, 202])
    let image = TinyImage(layerSize: 12 << 20)
    try await push(image, to: makeClient(fake, profile: profile), chunkSize: 1 << 20)
    #expect(fake.blob(image.layer.digest) == Array(image.blobs[image.layer.digest]!))
    #expect(fake.count(.GET, "/blobs/uploads/") == 0)
    #expect(fake.count(.POST, "/blobs/uploads/") == 3)
    // Chunks but the last are at least ECR's 5 MiB, though 1 MiB was asked for.
    let chunks = fake.log.filter { $0.method == .PATCH }.map(\.bodySize)
    #expect(chunks.dropLast().allSatisfy { $0 >= 5 << 20 })
  }

  @Test func aChunkAccepted201IsAnErrorUnlessTheProfileSaysSo() async throws {
    let image = TinyImage(layerSize: 300 << 10)
    await #expect {
      try await push(image, to: makeClient(FakeRegistry(ecr: true)))
    } throws: { error in
      ErrorCategory(of: error) == .rejected && "\(error)".contains("HTTP 201")
    }
    let profile = RegistryProfile(chunkAccepted: [201, 202])
    try await push(image, to: makeClient(FakeRegistry(ecr: true), profile: profile))
  }

  @Test func ecrExplainsAMissingRepositoryThroughDescribeRepositories() async throws {
    let fake = FakeRegistry()
    var environment = AWSEnvironment(variables: [
      "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1",
      "AWS_ENDPOINT_URL_ECR": "http://registry.test", "AWS_CONFIG_FILE": "/nonexistent",
      "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    ])
    environment.explicitRegion = "eu-west-1"
    var options = TransportOptions()
    options.retryPolicy = quickPolicy(1)
    let session = AWSSession(environment: environment, http: AWSHTTP(over: fake, options: options))
    let host = try #require(ECRHost(host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
    let access = ECRAccess(
      host: host, registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", session: session, cache: nil)
    let refusal = RegistryError(
      operation: "push", registry: access.registry, reason: .status(404, codes: [("NAME_UNKNOWN", "repo")]))
    let explained = try #require(await access.profile().explain?(refusal, "app"))
    #expect(ErrorCategory(of: explained) == .notFound)
    #expect("\(explained)".contains("hoist repo create"))
    #expect(fake.log.last?.headers.first(name: "X-Amz-Target")?.hasSuffix("DescribeRepositories") == true)
  }
}

@Suite struct ReferrersTagSchemaTests {
  @Test func aReferrerIsAddedToTheSubjectsTagIndexOnceKeepingOthersEntries() async throws {
    let fake = FakeRegistry()
    let client = makeClient(fake)
    let destination = RegistryDestination(client: client, repository: "repo", chunkSize: 64 << 10)
    let subject = Descriptor(
      mediaType: MediaType.ociManifest, digest: try Digest("sha256:" + String(repeating: "1", count: 64)), size: 5)
    let theirs = Descriptor(
      mediaType: MediaType.ociManifest, digest: try Digest("sha256:" + String(repeating: "2", count: 64)), size: 7)
    try await client.addToReferrersTag(repository: "repo", subject: subject.digest, referrer: theirs)
    var artifact = Manifest(
      mediaType: MediaType.ociManifest,
      config: Descriptor(mediaType: "application/vnd.oci.empty.v1+json", digest: subject.digest, size: 2), layers: [])
    artifact.artifactType = "application/spdx+json"
    artifact.subject = subject
    let bytes = artifact.encoded()
    for _ in 0..<2 {
      _ = try await destination.putManifest(
        bytes, mediaType: MediaType.ociManifest, reference: .digest(subject.digest), order: 0)
    }
    #expect(try await client.referrers(repository: "repo", subject: subject.digest, artifactType: nil) == nil)
    let listed = try await client.referrersTag(repository: "repo", subject: subject.digest)
    #expect(listed.map(\.digest) == [theirs.digest, Digest(sha256Bytes: SHA256Hasher.hash(bytes))])
    #expect(listed[1].artifactType == "application/spdx+json")
    let source = RegistrySource(client: client, repository: "repo", reference: "1", platform: .all)
    #expect(
      try await source.referrers(of: subject.digest, artifactType: nil).map(\.descriptor.digest) == listed.map(\.digest)
    )
  }
}
