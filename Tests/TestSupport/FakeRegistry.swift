import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Streams
import Synchronization
import Transport

/// A registry in memory behind the `HTTPSender` seam, for unit tests of everything above it: it keeps
/// blobs per repository, upload sessions, mounts and manifests as the distribution spec says, can ask for
/// Bearer tokens or Basic credentials, can behave as ECR does, and meets the requests a script of faults
/// names with a status, a reset, or an answer lost after it acted. Every request is logged.
public final class FakeRegistry: HTTPSender {
  /// How the fake wants to be authenticated.
  public enum Auth: Sendable {
    case none
    /// A Bearer challenge, tokens from `http://registry.test/token`.
    case bearer
    /// Basic with this password; `expireLogin` makes it answer 403 until the password changes.
    case basic(password: String)
  }

  /// What a scripted fault does to the request it matches.
  public enum Failure: Sendable, Equatable {
    /// Answered with this status before the registry acts.
    case status(UInt, retryAfter: String?)
    /// The connection breaks while the request is sent: nothing is done.
    case reset
    /// An upload chunk is stored up to this many bytes, then the connection breaks.
    case cut(keeping: Int)
    /// The registry acts; the answer is lost (the connection breaks before it arrives).
    case lost
    /// The registry acts; a proxy in front of it answers with this status instead.
    case actedThen(UInt)
    /// The registry acts; its answer's body breaks off halfway.
    case truncated
  }

  public struct Fault: Sendable {
    /// The method the request must have; nil for any.
    public var method: HTTPMethod?
    /// A part of the URL path the request must contain; `/v2/` matches the ping only.
    public var path: String
    public var failure: Failure
    /// How many matching requests fail; nil for all of them.
    public var times: Int?
    /// How many matching requests pass before the fault starts.
    public var skip: Int

    public init(method: HTTPMethod?, path: String, failure: Failure, times: Int? = 1, skip: Int = 0) {
      (self.method, self.path, self.failure, self.times, self.skip) = (method, path, failure, times, skip)
    }

    /// The request with this number (0 for the first the fake receives) fails.
    public static func nth(_ number: Int, _ failure: Failure) -> Fault {
      Fault(method: nil, path: "", failure: failure, skip: number)
    }

    func matches(_ method: HTTPMethod, _ path: String) -> Bool {
      (self.method.map { $0 == method } ?? true)
        && (self.path == "/v2/" ? path == "/v2/" : self.path.isEmpty || path.contains(self.path))
    }
  }

  /// One request as the fake received it.
  public struct Logged: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var bodySize: Int
  }

  struct Session {
    var repository: String
    var bytes = [UInt8]()
    /// Where the first chunk ended, which is all ECR's `Range` ever says.
    var firstChunk: Int?
  }

  struct State {
    var blobs = [String: [UInt8]]()
    /// `repository@digest` for each blob a repository holds.
    var links = Set<String>()
    var uploads = [String: Session]()
    var manifests = [String: (bytes: [UInt8], type: String)]()
    var faults = [Fault]()
    var log = [Logged]()
    var tokens = Set<String>()
    var loginExpired = false
    var nextID = 0
    /// The request number at which the login expires, if it is to.
    var expiresAt: Int?
  }

  let auth: Auth
  /// Answers chunks with 201 and reports `Range` only up to the first chunk, as ECR does.
  let ecr: Bool
  /// Refuses a manifest put under a tag that exists (`TAG_INVALID`), as ECR does for immutable tags.
  let immutableTags: Bool
  private let state = Mutex(State())

  public static let base = "http://registry.test"

  public init(auth: Auth = .none, ecr: Bool = false, immutableTags: Bool = false, faults: [Fault] = []) {
    self.auth = auth
    self.ecr = ecr
    self.immutableTags = immutableTags
    state.withLock { $0.faults = faults }
  }

  /// A registry holding what this one holds, with no log and no faults but `faults`.
  public func copy(faults: [Fault] = []) -> FakeRegistry {
    let copy = FakeRegistry(auth: auth, ecr: ecr, immutableTags: immutableTags, faults: faults)
    let held = state.withLock { ($0.blobs, $0.links, $0.manifests) }
    copy.state.withLock { ($0.blobs, $0.links, $0.manifests) = held }
    return copy
  }

  public var log: [Logged] { state.withLock { $0.log } }

  /// Requests logged with this method whose path contains `path`.
  public func count(_ method: HTTPMethod, _ path: String) -> Int {
    log.filter { $0.method == method && $0.url.contains(path) }.count
  }

  /// A blob as any repository holds it.
  public func blob(_ digest: Digest) -> [UInt8]? { state.withLock { $0.blobs[digest.description] } }

  public func manifest(_ repository: String, _ reference: String) -> [UInt8]? {
    state.withLock { $0.manifests["\(repository):\(reference)"]?.bytes }
  }

  /// What the registry holds, as text to compare: each `repository:reference` with its manifest's digest,
  /// and each `repository@digest` blob link. Upload sessions left open are not part of it.
  public var contents: [String] {
    state.withLock { state in
      state.manifests.map { "\($0.key) \(Digest(sha256Bytes: SHA256Hasher.hash($0.value.bytes)))" }.sorted()
        + state.links.sorted()
    }
  }

  public func add(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }

  /// The faults not yet met.
  public var pendingFaults: [Fault] { state.withLock { $0.faults } }

  /// Makes the login expire once this many requests have come.
  public func expireLogin(afterRequests count: Int) { state.withLock { $0.expiresAt = count } }

  /// Makes every token and the Basic password stop working, as a login expiring does.
  public func expireLogin() {
    state.withLock {
      $0.tokens = []
      $0.loginExpired = true
    }
  }

  public func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse
  {
    var body = [UInt8]()
    if let stream = request.body {
      for try await buffer in stream { body += buffer.readableBytesView }
    }
    let logged = Logged(method: request.method, url: request.url, headers: request.headers, bodySize: body.count)
    let (fault, answer): (Failure?, Answer) = state.withLock { state in
      state.log.append(logged)
      let fault = dueFault(request, &state)
      if let fault, !Self.acts(fault) {
        if case .cut(let keeping) = fault,
          let id = URLComponents(string: request.url)?.path.split(separator: "/").last.map(String.init)
        {
          state.uploads[id]?.bytes += body.prefix(keeping)
        }
        return (fault, Answer(status: 0))
      }
      return (fault, respond(to: request, body: body, &state))
    }
    switch fault {
    case .status(let status, let retryAfter):
      var headers = HTTPHeaders()
      if let retryAfter { headers.add(name: "Retry-After", value: retryAfter) }
      return Self.response(status, headers, #"{"errors":[{"code":"UNAVAILABLE","message":"scripted"}]}"#)
    case .reset, .cut, .lost:
      throw ConnectionFailure(kind: .closed, detail: "reset by the script")
    case .actedThen(let status):
      return Self.response(status, [:], "<html>bad gateway</html>")
    case .truncated:
      var headers = answer.headers
      headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.count))
      return HTTPClientResponse(
        status: .init(statusCode: Int(answer.status)), headers: headers,
        body: .stream(BrokenBody(bytes: Array(answer.body.prefix(answer.body.count / 2)))))
    case nil:
      return HTTPClientResponse(
        status: .init(statusCode: Int(answer.status)), headers: answer.headers,
        body: .bytes(ByteBuffer(bytes: answer.body)))
    }
  }

  /// Whether the registry does the request's work before the fault strikes.
  static func acts(_ failure: Failure) -> Bool {
    switch failure {
    case .status, .reset, .cut: false
    case .lost, .actedThen, .truncated: true
    }
  }

  /// The fault the request meets, if any, counted off.
  private func dueFault(_ request: HTTPClientRequest, _ state: inout State) -> Failure? {
    let path = URLComponents(string: request.url)?.path ?? ""
    guard let position = state.faults.firstIndex(where: { $0.matches(request.method, path) }) else { return nil }
    let fault = state.faults[position]
    if fault.skip > 0 {
      state.faults[position].skip -= 1
      return nil
    }
    if let times = fault.times {
      if times <= 1 { state.faults.remove(at: position) } else { state.faults[position].times = times - 1 }
    }
    return fault.failure
  }

  public static func response(_ status: UInt, _ headers: HTTPHeaders = [:], _ body: String = "") -> HTTPClientResponse {
    HTTPClientResponse(status: .init(statusCode: Int(status)), headers: headers, body: .bytes(ByteBuffer(string: body)))
  }

  private func respond(to request: HTTPClientRequest, body: [UInt8], _ state: inout State) -> Answer {
    let components = URLComponents(string: request.url)!
    let path = components.path
    if state.log.count == state.expiresAt {
      state.tokens = []
      state.loginExpired = true
    }
    if path == "/" || path.isEmpty, request.headers.first(name: "X-Amz-Target") != nil {
      return Answer(status: 400, #"{"__type":"RepositoryNotFoundException","message":"no such repository"}"#)
    }
    if path == "/token" {
      state.nextID += 1
      let token = "token-\(state.nextID)"
      state.tokens.insert(token)
      return Answer(status: 200, #"{"token":"\#(token)","expires_in":300}"#)
    }
    if let refusal = authenticate(request, &state) { return refusal }
    if path == "/v2/" { return Answer(status: 200) }
    let query = Dictionary(
      (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    return route(request.method, path: path, query: query, headers: request.headers, body: body, &state)
  }

  private func authenticate(_ request: HTTPClientRequest, _ state: inout State) -> Answer? {
    let given = request.headers.first(name: "Authorization") ?? ""
    switch auth {
    case .none:
      return nil
    case .bearer:
      guard given.hasPrefix("Bearer "), state.tokens.contains(String(given.dropFirst(7))) else {
        return Answer(
          status: 401, #"{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}"#,
          headers: ["WWW-Authenticate": #"Bearer realm="\#(Self.base)/token",service="registry.test""#])
      }
      return nil
    case .basic(let password):
      let expected = "Basic " + Data("AWS:\(password)".utf8).base64EncodedString()
      if state.loginExpired && given == expected {
        return Answer(status: 403, #"{"errors":[{"code":"DENIED","message":"Your authorization token has expired."}]}"#)
      }
      let current = state.loginExpired ? "renewed" : password
      guard given == "Basic " + Data("AWS:\(current)".utf8).base64EncodedString() else {
        return Answer(status: 401, headers: ["WWW-Authenticate": #"Basic realm="registry.test""#])
      }
      return nil
    }
  }
}

/// An answer the fake's state machine gives.
struct Answer {
  var status: UInt
  var body: [UInt8]
  var headers: HTTPHeaders

  init(status: UInt, _ body: String = "", headers: [String: String] = [:]) {
    self.status = status
    self.body = Array(body.utf8)
    self.headers = HTTPHeaders(headers.map { ($0.key, $0.value) })
  }
}

/// A response body that gives its bytes and then breaks, as a connection dropped mid-answer does.
struct BrokenBody: AsyncSequence, Sendable {
  typealias Element = ByteBuffer
  let bytes: [UInt8]

  struct AsyncIterator: AsyncIteratorProtocol {
    var bytes: [UInt8]?
    mutating func next() async throws -> ByteBuffer? {
      guard let rest = bytes, !rest.isEmpty else { throw ConnectionFailure(kind: .closed, detail: "body cut off") }
      bytes = []
      return ByteBuffer(bytes: rest)
    }
  }

  func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes) }
}
