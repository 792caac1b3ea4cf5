import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Synchronization
import TestSupport
import Testing
import Transport

@testable import Registry

/// Answers every request from `answer`, and keeps what it was asked.
final class AnsweringSender: HTTPSender {
  let answer: @Sendable (HTTPClientRequest) -> (HTTPResponseStatus, HTTPHeaders, [UInt8])
  let asked = Mutex<[HTTPClientRequest]>([])

  init(_ answer: @escaping @Sendable (HTTPClientRequest) -> (HTTPResponseStatus, HTTPHeaders, [UInt8])) {
    self.answer = answer
  }

  func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse {
    asked.withLock { $0.append(request) }
    let (status, headers, body) = answer(request)
    return HTTPClientResponse(status: status, headers: headers, body: .bytes(ByteBuffer(bytes: body)))
  }
}

/// A front on a fake registry that serves other bytes than asked for: blobs with their last byte flipped,
/// a manifest asked for by digest replaced by another.
final class LyingRegistry: HTTPSender {
  let fake: FakeRegistry
  let other: [UInt8]

  init(_ fake: FakeRegistry, other: [UInt8]) { (self.fake, self.other) = (fake, other) }

  func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse {
    let response = try await fake.send(request, timeout: timeout, resend: resend)
    guard request.method == .GET, response.status == .ok,
      request.url.contains("/blobs/sha256:") || request.url.contains("/manifests/sha256:")
    else { return response }
    var body = Array(try await response.body.collect(upTo: 1 << 24).readableBytesView)
    if request.url.contains("/manifests/") { body = other } else if !body.isEmpty { body[body.count - 1] ^= 0xFF }
    var headers = response.headers
    headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
    return HTTPClientResponse(status: .ok, headers: headers, body: .bytes(ByteBuffer(bytes: body)))
  }
}

/// Lines that keep users safe, each held by a test that fails when it breaks (`scripts/mutants`).
@Suite struct GuardedLinesTests {
  func redirecting(to location: String) -> AnsweringSender {
    AnsweringSender { request in
      request.url == "https://registry.test/v2/app/blobs/sha256:1"
        ? (.temporaryRedirect, ["Location": location], []) : (.ok, [:], [])
    }
  }

  func firstRequest() -> HTTPClientRequest {
    var request = HTTPClientRequest(url: "https://registry.test/v2/app/blobs/sha256:1")
    request.headers.add(name: "Authorization", value: "Bearer secret")
    return request
  }

  @Test func aRedirectToAnotherHostCarriesNoCredentials() async throws {
    let storage = redirecting(to: "https://storage.test/blob?sig=1")
    _ = try await Redirects(over: storage).send(firstRequest(), timeout: .seconds(5), resend: .asIs)
    let asked = storage.asked.withLock { $0 }
    #expect(asked.count == 2)
    #expect(asked[0].headers["Authorization"] == ["Bearer secret"])
    #expect(asked[1].headers["Authorization"].isEmpty)
    let sameHost = redirecting(to: "/v2/app/blobs/elsewhere")
    _ = try await Redirects(over: sameHost).send(firstRequest(), timeout: .seconds(5), resend: .asIs)
    #expect(sameHost.asked.withLock { $0[1].headers["Authorization"] } == ["Bearer secret"])
  }

  @Test func aRedirectFromHTTPSToPlainHTTPIsRefused() async throws {
    let downgrade = redirecting(to: "http://storage.test/blob")
    await #expect(throws: TransportError.self) {
      try await Redirects(over: downgrade).send(firstRequest(), timeout: .seconds(5), resend: .asIs)
    }
    #expect(downgrade.asked.withLock { $0.count } == 1)
  }

  @Test func credentialsGivenOnTheCommandLineWinOverDockersConfig() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let auth = Data("docker:config".utf8).base64EncodedString()
    let path = folder.appendingPathComponent("config.json").path
    try Data(#"{"auths": {"registry.test": {"auth": "\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: path))
    let given = RegistryCredentials(username: "ci", password: "secret")
    let source = CredentialSource(explicit: ["registry.test": given], dockerConfig: DockerConfigFile(path: path))
    #expect(try source.credentials(for: "registry.test") == given)
    #expect(try source.credentials(for: "other.test") == nil)
    let configOnly = CredentialSource(dockerConfig: DockerConfigFile(path: path))
    #expect(try configOnly.credentials(for: "registry.test")?.username == "docker")
  }

  @Test func onlyFailuresThatMayPassAreTriedAgain() {
    for status: UInt in [408, 429, 500, 502, 503, 504] { #expect(PassingFailure.status(status), "\(status)") }
    for status: UInt in [400, 401, 403, 404, 409, 501] { #expect(!PassingFailure.status(status), "\(status)") }
  }

  @Test func aReadAsksForPullAndAWriteForPush() {
    #expect(RegistryClient.pullScope("team/app") == "repository:team/app:pull")
    #expect(RegistryClient.pushScope("team/app") == "repository:team/app:pull,push")
  }

  @Test func bytesThatAreNotWhatTheirDigestSaysAreRefused() async throws {
    let fake = FakeRegistry()
    let image = TinyImage(layerSize: 4096)
    let stored = try await push(image, to: makeClient(fake))
    let other = Array(image.blobs[image.layer.digest]!.prefix(64))
    let client = makeClient(fake, sender: LyingRegistry(fake, other: other))
    let byDigest = RegistrySource(
      client: client, repository: "repo", reference: stored.digest.description, platform: .all)
    await #expect(throws: SourceError.self) { _ = try await byDigest.root() }
    let byTag = RegistrySource(client: client, repository: "repo", reference: "1", platform: .all)
    let manifest = try Manifest.decode(try await byTag.root().bytes, what: "manifest")
    await #expect(throws: SourceError.self) { _ = try await byTag.document(manifest.config) }
  }
}
