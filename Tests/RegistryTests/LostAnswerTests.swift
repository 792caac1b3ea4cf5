import AWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Streams
import Synchronization
import TestSupport
import Testing
import Transport

@testable import Registry

/// Requests whose answers are lost after the registry acted: the registry's state decides what happened.
@Suite struct LostAnswerTests {
  @Test func aLostFinishIsSettledByLookingForTheBlobNotByANewSession() async throws {
    let fake = FakeRegistry(faults: [.init(method: .PUT, path: "/blobs/uploads/", failure: .lost)])
    let image = TinyImage(layerSize: 100 << 10)
    #expect(try await push(image, to: makeClient(fake)).digest == image.manifest.digest)
    // One session per blob, and the HEAD after the lost PUT found the layer there.
    #expect(fake.count(.POST, "/blobs/uploads/") == 2)
    #expect(fake.count(.PUT, "/blobs/uploads/") == 2)
    #expect(fake.count(.HEAD, "/blobs/") == 3)
  }

  @Test func aSessionTheRegistryNoLongerKnowsStartsANewOne() async throws {
    // The PUT is refused as if a lost try had used the session, and the blob is not there.
    let fake = FakeRegistry(faults: [
      .init(method: .PUT, path: "/blobs/uploads/", failure: .status(404, retryAfter: nil))
    ])
    let image = TinyImage(layerSize: 100 << 10)
    #expect(try await push(image, to: makeClient(fake)).digest == image.manifest.digest)
    #expect(fake.count(.POST, "/blobs/uploads/") == 3)
  }

  @Test func aRepeatedManifestPutRefusedAfterALostAnswerIsSettledByTheTag() async throws {
    let fake = FakeRegistry(
      immutableTags: true, faults: [.init(method: .PUT, path: "/manifests/", failure: .actedThen(502))])
    let image = TinyImage(layerSize: 1000)
    #expect(try await push(image, to: makeClient(fake)).digest == image.manifest.digest)
    #expect(fake.count(.PUT, "/manifests/1") == 2)
    #expect(fake.count(.HEAD, "/manifests/1") == 1)
  }

  @Test func aReferrerReplacedByAnotherWriterIsMergedAgain() async throws {
    let fake = FakeRegistry()
    let subject = try Digest("sha256:" + String(repeating: "1", count: 64))
    let theirs = Descriptor(
      mediaType: MediaType.ociManifest, digest: try Digest("sha256:" + String(repeating: "2", count: 64)), size: 7)
    let ours = Descriptor(
      mediaType: MediaType.ociManifest, digest: try Digest("sha256:" + String(repeating: "3", count: 64)), size: 9)
    // Right after hoist writes the index, another writer puts its own, read before hoist's write.
    let rival = RivalWriter(fake: fake, index: Index(mediaType: MediaType.ociIndex, manifests: [theirs]).encoded())
    let client = makeClient(fake, sender: rival)
    try await client.addToReferrersTag(repository: "repo", subject: subject, referrer: ours)
    let listed = try await client.referrersTag(repository: "repo", subject: subject)
    #expect(Set(listed.map(\.digest)) == [theirs.digest, ours.digest])
    #expect(fake.count(.PUT, "/manifests/sha256-") == 3)
  }

  @Test func aThrottledAWSCallIsTriedAgainAndNamedWhenItGivesUp() async throws {
    let throttled = #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#
    let token = Data("AWS:secret".utf8).base64EncodedString()
    let granted = #"{"authorizationData":[{"authorizationToken":"\#(token)","expiresAt":1.8e9}]}"#
    let twice = ScriptedSender([.answer(400, throttled), .answer(400, throttled), .answer(200, granted)])
    #expect(try await ecrClient(twice, retries: 3).authorizationToken().password == "secret")
    #expect(twice.requests == 3)

    // Throttles have their own allowance, four times the retries: the server sets the pace.
    let always = ScriptedSender(Array(repeating: .answer(400, throttled), count: 13))
    await #expect {
      try await ecrClient(always, retries: 3).authorizationToken()
    } throws: { error in
      ErrorCategory(of: error) == .throttled && "\(error)".contains("ECR GetAuthorizationToken")
        && "\(error)".contains("tried 13 times") && "\(error)".contains("ThrottlingException")
    }
    #expect(always.requests == 13)
  }

  /// Sends one PUT through `Retries` over `script` with a look that counts its calls and answers `found`.
  func put(
    through script: ScriptedSender, lookingFirst: Bool = true, found: Bool
  ) async throws -> (HTTPClientResponse, looks: Int) {
    let looks = Mutex(0)
    let look: Resend.Look = {
      looks.withLock { $0 += 1 }
      return found ? FakeRegistry.response(201) : nil
    }
    var request = HTTPClientRequest(url: "http://registry.test/v2/repo/manifests/1")
    request.method = .PUT
    let response = try await Retries(over: script, policy: quickPolicy(3)).send(
      request, timeout: .seconds(5), resend: lookingFirst ? .lookingFirst(look) : .lookingWhenRefused(look))
    return (response, looks.withLock { $0 })
  }

  @Test func aRefusedConnectionAndA429DidNothingAndAreNotLookedInto() async throws {
    let script = ScriptedSender([.fail(.refused), .answer(429, ""), .answer(408, ""), .answer(201, "")])
    let (response, looks) = try await put(through: script, found: true)
    #expect(response.status.code == 201 && looks == 0 && script.requests == 4)
  }

  @Test func aLostAnswerIsLookedIntoOnceBeforeTheRequestGoesAgain() async throws {
    for failure in [ScriptedSender.Step.fail(.closed), .fail(.readTimeout), .answer(502, "")] {
      let settled = ScriptedSender([failure])
      let (found, looksWhenFound) = try await put(through: settled, found: true)
      #expect(found.status.code == 201 && looksWhenFound == 1 && settled.requests == 1)
      let resent = ScriptedSender([failure, .answer(201, "")])
      let (answer, looksWhenMissing) = try await put(through: resent, found: false)
      #expect(answer.status.code == 201 && looksWhenMissing == 1 && resent.requests == 2)
    }
  }

  @Test func aRequestThatMayGoAgainIsLookedIntoOnlyWhenTheRepeatIsRefused() async throws {
    let accepted = ScriptedSender([.fail(.closed), .answer(201, "")])
    #expect(try await put(through: accepted, lookingFirst: false, found: true).looks == 0)
    let refused = ScriptedSender([.fail(.closed), .answer(400, #"{"errors":[{"code":"TAG_INVALID"}]}"#)])
    let (answer, looks) = try await put(through: refused, lookingFirst: false, found: true)
    #expect(answer.status.code == 201 && looks == 1)
  }
}

/// An ECR API client for 123456789012 in eu-west-1 that sends through `sender`.
func ecrClient(_ sender: any HTTPSender, retries: Int) throws -> ECRClient {
  var options = TransportOptions()
  options.retryPolicy = quickPolicy(retries)
  let host = try #require(ECRHost(host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
  let environment = AWSEnvironment(variables: ["AWS_ENDPOINT_URL_ECR": "http://aws.test"])
  return try ECRClient(
    host: host, credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret", source: "test"),
    environment: environment, http: AWSHTTP(over: sender, options: options))
}

/// Answers from a script, one step per request: an answer, or a connection failure of some kind.
final class ScriptedSender: HTTPSender {
  enum Step {
    case answer(UInt, String)
    case fail(ConnectionFailure.Kind)
  }

  private let script: Mutex<[Step]>
  private let count = Mutex(0)

  init(_ steps: [Step]) { script = Mutex(steps) }

  var requests: Int { count.withLock { $0 } }

  func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse {
    count.withLock { $0 += 1 }
    switch script.withLock({ $0.removeFirst() }) {
    case .answer(let status, let body): return FakeRegistry.response(status, [:], body)
    case .fail(let kind): throw ConnectionFailure(kind: kind, detail: "scripted")
    }
  }
}

/// Passes requests to the fake; after the first put of a referrers tag, puts its own index there, as a
/// second writer working at the same moment would.
final class RivalWriter: HTTPSender {
  let fake: FakeRegistry
  let index: Data
  private let done = Mutex(false)

  init(fake: FakeRegistry, index: Data) {
    self.fake = fake
    self.index = index
  }

  func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse {
    let response = try await fake.send(request, timeout: timeout, resend: resend)
    let rivalsNow =
      request.method == .PUT && request.url.contains("/manifests/sha256-")
      && done.withLock { done in
        defer { done = true }
        return !done
      }
    if rivalsNow {
      var rival = HTTPClientRequest(url: request.url)
      rival.method = .PUT
      rival.headers.add(name: "Content-Type", value: MediaType.ociIndex)
      rival.body = .bytes(ByteBuffer(bytes: index))
      _ = try await fake.send(rival, timeout: timeout, resend: .never)
    }
    return response
  }
}

@Suite struct LostAWSAnswerTests {
  @Test func aRepositoryWhoseCreateAnswerWasLostIsThereAndThatIsEnough() async throws {
    let missing = #"{"__type":"RepositoryNotFoundException","message":"no such repository"}"#
    let exists = #"{"__type":"RepositoryAlreadyExistsException","message":"already exists"}"#
    // Described as missing; the create goes out, ECR makes the repository and the answer is lost; the repeat
    // meets the repository the first try made.
    let script = ScriptedSender([.answer(400, missing), .fail(.closed), .answer(400, exists)])
    try await ecrClient(script, retries: 3).ensureRepository("app")
    #expect(script.requests == 3)
  }
}
