import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Streams
import Synchronization
import Transport

/// A registry in memory behind the `HTTPSender` seam, for unit tests of everything above it: it keeps
/// blobs, upload sessions and manifests as the distribution spec says, can ask for Bearer tokens or Basic
/// credentials, can behave as ECR does, and answers the requests a script of faults names with a status or
/// a reset. Every request is logged.
final class FakeRegistry: HTTPSender {
  /// How the fake wants to be authenticated.
  enum Auth {
    case none
    /// A Bearer challenge, tokens from `http://registry.test/token`.
    case bearer
    /// Basic with this password; `expireLogin` makes it answer 403 until the password changes.
    case basic(password: String)
  }

  /// What a scripted fault does to the request it matches.
  enum Failure: Sendable {
    case status(UInt, retryAfter: String?)
    /// The connection breaks before an answer.
    case reset
    /// An upload chunk is stored up to this many bytes, then the connection breaks.
    case cut(keeping: Int)
  }

  struct Fault: Sendable {
    var method: HTTPMethod
    /// A part of the URL path the request must contain; `/v2/` matches the ping only.
    var path: String
    var failure: Failure
    /// How many matching requests fail; nil for all of them.
    var times: Int? = 1
    /// How many matching requests pass before the fault starts.
    var skip = 0

    func matches(_ method: HTTPMethod, _ path: String) -> Bool {
      method == self.method && (self.path == "/v2/" ? path == "/v2/" : path.contains(self.path))
    }
  }

  /// One request as the fake received it.
  struct Logged: Sendable {
    var method: HTTPMethod
    var url: String
    var headers: HTTPHeaders
    var bodySize: Int
  }

  struct State {
    var blobs = [String: [UInt8]]()
    var uploads = [String: [UInt8]]()
    /// Where each session's first chunk ended, which is all ECR's `Range` ever says.
    var firstChunk = [String: Int]()
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
  private let state = Mutex(State())

  static let base = "http://registry.test"

  init(auth: Auth = .none, ecr: Bool = false, faults: [Fault] = []) {
    self.auth = auth
    self.ecr = ecr
    state.withLock { $0.faults = faults }
  }

  var log: [Logged] { state.withLock { $0.log } }

  /// Requests logged with this method whose path contains `path`.
  func count(_ method: HTTPMethod, _ path: String) -> Int {
    log.filter { $0.method == method && $0.url.contains(path) }.count
  }

  func blob(_ digest: Digest) -> [UInt8]? { state.withLock { $0.blobs[digest.description] } }

  func manifest(_ repository: String, _ reference: String) -> [UInt8]? {
    state.withLock { $0.manifests["\(repository):\(reference)"]?.bytes }
  }

  func add(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }

  /// Makes the login expire once this many requests have come.
  func expireLogin(afterRequests count: Int) { state.withLock { $0.expiresAt = count } }

  /// Makes every token and the Basic password stop working, as a login expiring does.
  func expireLogin() {
    state.withLock {
      $0.tokens = []
      $0.loginExpired = true
    }
  }

  func send(_ request: HTTPClientRequest, timeout: TimeAmount, repeatable: Bool) async throws -> HTTPClientResponse {
    var body = [UInt8]()
    if let stream = request.body {
      for try await buffer in stream { body += buffer.readableBytesView }
    }
    let logged = Logged(method: request.method, url: request.url, headers: request.headers, bodySize: body.count)
    let answer = state.withLock { state in
      state.log.append(logged)
      return respond(to: request, body: body, &state)
    }
    switch answer {
    case .failure(.reset), .failure(.cut):
      throw ConnectionFailure(kind: .closed, detail: "reset by the script")
    case .failure(.status(let status, let retryAfter)):
      var headers = HTTPHeaders()
      if let retryAfter { headers.add(name: "Retry-After", value: retryAfter) }
      return Self.response(status, headers, #"{"errors":[{"code":"UNAVAILABLE","message":"scripted"}]}"#)
    case .answer(let status, let headers, let bytes):
      return HTTPClientResponse(
        status: .init(statusCode: Int(status)), headers: headers, body: .bytes(ByteBuffer(bytes: bytes)))
    }
  }

  enum Answer {
    case failure(Failure)
    case answer(UInt, HTTPHeaders, [UInt8])
  }

  static func response(_ status: UInt, _ headers: HTTPHeaders = [:], _ body: String = "") -> HTTPClientResponse {
    HTTPClientResponse(status: .init(statusCode: Int(status)), headers: headers, body: .bytes(ByteBuffer(string: body)))
  }

  private func respond(to request: HTTPClientRequest, body: [UInt8], _ state: inout State) -> Answer {
    let components = URLComponents(string: request.url)!
    let path = components.path
    if state.log.count == state.expiresAt {
      state.tokens = []
      state.loginExpired = true
    }
    if let position = state.faults.firstIndex(where: { $0.matches(request.method, path) }) {
      let fault = state.faults[position]
      if fault.skip > 0 {
        state.faults[position].skip -= 1
      } else {
        if let times = fault.times {
          if times <= 1 { state.faults.remove(at: position) } else { state.faults[position].times = times - 1 }
        }
        if case .cut(let keeping) = fault.failure, let id = path.split(separator: "/").last.map(String.init) {
          state.uploads[id]? += body.prefix(keeping)
        }
        return .failure(fault.failure)
      }
    }
    if path == "/" || path.isEmpty, request.headers.first(name: "X-Amz-Target") != nil {
      return .answer(400, [:], Array(#"{"__type":"RepositoryNotFoundException","message":"no such repository"}"#.utf8))
    }
    if path == "/token" {
      state.nextID += 1
      let token = "token-\(state.nextID)"
      state.tokens.insert(token)
      return .answer(200, [:], Array(#"{"token":"\#(token)","expires_in":300}"#.utf8))
    }
    if let refusal = authenticate(request, &state) { return refusal }
    if path == "/v2/" { return .answer(200, [:], []) }
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
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: #"Bearer realm="\#(Self.base)/token",service="registry.test""#)
        return .answer(401, headers, Array(#"{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}"#.utf8))
      }
      return nil
    case .basic(let password):
      let expected = "Basic " + Data("AWS:\(password)".utf8).base64EncodedString()
      if state.loginExpired && given == expected {
        let body = #"{"errors":[{"code":"DENIED","message":"Your authorization token has expired."}]}"#
        return .answer(403, [:], Array(body.utf8))
      }
      let current = state.loginExpired ? "renewed" : password
      guard given == "Basic " + Data("AWS:\(current)".utf8).base64EncodedString() else {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: #"Basic realm="registry.test""#)
        return .answer(401, headers, [])
      }
      return nil
    }
  }

  private func route(
    _ method: HTTPMethod, path: String, query: [String: String], headers: HTTPHeaders, body: [UInt8],
    _ state: inout State
  ) -> Answer {
    let parts = path.dropFirst(4).components(separatedBy: "/")
    func located(_ id: String, _ status: UInt, range: Int?) -> Answer {
      var out = HTTPHeaders()
      out.add(name: "Location", value: "/v2/repo/blobs/uploads/\(id)")
      if let range { out.add(name: "Range", value: "0-\(max(range - 1, 0))") }
      return .answer(status, out, [])
    }
    if let uploads = parts.firstIndex(of: "uploads") {
      if method == .POST {
        state.nextID += 1
        let id = "session-\(state.nextID)"
        state.uploads[id] = []
        return located(id, 202, range: nil)
      }
      let id = parts.count > uploads + 1 ? parts[uploads + 1] : ""
      guard var stored = state.uploads[id] else { return .answer(404, [:], []) }
      switch method {
      case .PATCH:
        if let range = headers.first(name: "Content-Range"), let start = Int(range.split(separator: "-")[0]),
          start != stored.count
        {
          return .answer(416, [:], [])
        }
        stored += body
        state.uploads[id] = stored
        if state.firstChunk[id] == nil { state.firstChunk[id] = stored.count }
        return located(id, ecr ? 201 : 202, range: ecr ? state.firstChunk[id] : stored.count)
      case .GET:
        return located(id, 204, range: ecr ? (state.firstChunk[id] ?? 0) : stored.count)
      case .PUT:
        stored += body
        let digest = Digest(sha256Bytes: SHA256Hasher.hash(stored))
        guard query["digest"] == digest.description else { return .answer(400, [:], Array("DIGEST_INVALID".utf8)) }
        state.blobs[digest.description] = stored
        state.uploads[id] = nil
        var out = HTTPHeaders()
        out.add(name: "Docker-Content-Digest", value: digest.description)
        return .answer(201, out, [])
      case .DELETE:
        state.uploads[id] = nil
        return .answer(204, [:], [])
      default:
        return .answer(405, [:], [])
      }
    }
    if let blobs = parts.firstIndex(of: "blobs"), parts.count > blobs + 1 {
      guard let bytes = state.blobs[parts[blobs + 1]] else {
        return .answer(404, [:], method == .HEAD ? [] : Array(#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#.utf8))
      }
      var out = HTTPHeaders()
      out.add(name: "Content-Length", value: String(bytes.count))
      return .answer(200, out, method == .HEAD ? [] : bytes)
    }
    if let manifests = parts.firstIndex(of: "manifests"), parts.count > manifests + 1 {
      let repository = parts[..<manifests].joined(separator: "/")
      let key = "\(repository):\(parts[manifests + 1])"
      switch method {
      case .PUT:
        let digest = Digest(sha256Bytes: SHA256Hasher.hash(body))
        let type = headers.first(name: "Content-Type") ?? ""
        state.manifests[key] = (body, type)
        state.manifests["\(repository):\(digest)"] = (body, type)
        var out = HTTPHeaders()
        out.add(name: "Docker-Content-Digest", value: digest.description)
        return .answer(201, out, [])
      case .GET, .HEAD:
        guard let stored = state.manifests[key] else {
          return .answer(404, [:], Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#.utf8))
        }
        var out = HTTPHeaders()
        out.add(name: "Content-Type", value: stored.type)
        out.add(name: "Docker-Content-Digest", value: Digest(sha256Bytes: SHA256Hasher.hash(stored.bytes)).description)
        return .answer(200, out, method == .HEAD ? [] : stored.bytes)
      default:
        return .answer(405, [:], [])
      }
    }
    return .answer(404, [:], Array(#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#.utf8))
  }
}
