import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OCI
import Streams

/// The distribution API the fake answers: upload sessions (chunks, status, finish, cancel, mounts), blobs
/// per repository, manifests by tag and digest, and tag lists.
extension FakeRegistry {
  func route(
    _ method: HTTPMethod, path: String, query: [String: String], headers: HTTPHeaders, body: [UInt8],
    _ state: inout State
  ) -> Answer {
    let name = String(path.dropFirst(4))
    if let range = name.range(of: "/blobs/uploads") {
      let repository = String(name[..<range.lowerBound])
      let id = name[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "/"))
      return upload(method, repository: repository, id: id, query: query, headers: headers, body: body, &state)
    }
    if let range = name.range(of: "/blobs/") {
      let key = "\(name[..<range.lowerBound])@\(name[range.upperBound...])"
      guard state.links.contains(key), let bytes = state.blobs[String(name[range.upperBound...])] else {
        return Answer(status: 404, method == .HEAD ? "" : #"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#)
      }
      var answer = Answer(status: 200, headers: ["Content-Length": String(bytes.count)])
      if method != .HEAD { answer.body = bytes }
      return answer
    }
    if let range = name.range(of: "/manifests/") {
      return manifest(
        method, key: "\(name[..<range.lowerBound]):\(name[range.upperBound...])", headers: headers, body: body,
        &state)
    }
    if name.hasSuffix("/tags/list") {
      let repository = name.dropLast("/tags/list".count)
      let tags = state.manifests.keys.filter { $0.hasPrefix(repository + ":") && !$0.contains("sha256:") }
        .map { $0.dropFirst(repository.count + 1) }.sorted()
      return Answer(
        status: 200, #"{"name":"\#(repository)","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]}"#)
    }
    return Answer(status: 404, #"{"errors":[{"code":"NAME_UNKNOWN"}]}"#)
  }

  private func upload(
    _ method: HTTPMethod, repository: String, id: String, query: [String: String], headers: HTTPHeaders,
    body: [UInt8], _ state: inout State
  ) -> Answer {
    func located(_ id: String, _ status: UInt, range: Int?) -> Answer {
      var answer = Answer(status: status, headers: ["Location": "/v2/\(repository)/blobs/uploads/\(id)"])
      if let range { answer.headers.add(name: "Range", value: "0-\(max(range - 1, 0))") }
      return answer
    }
    if method == .POST {
      if let digest = query["mount"], let from = query["from"], state.links.contains("\(from)@\(digest)") {
        state.links.insert("\(repository)@\(digest)")
        return Answer(status: 201, headers: ["Location": "/v2/\(repository)/blobs/\(digest)"])
      }
      state.nextID += 1
      let id = "session-\(state.nextID)"
      state.uploads[id] = Session(repository: repository)
      return located(id, 202, range: nil)
    }
    guard var session = state.uploads[id], session.repository == repository else {
      return Answer(status: 404, #"{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}"#)
    }
    switch method {
    case .PATCH:
      if let range = headers.first(name: "Content-Range"), let start = Int(range.split(separator: "-")[0]),
        start != session.bytes.count
      {
        return Answer(status: 416)
      }
      session.bytes += body
      if session.firstChunk == nil { session.firstChunk = session.bytes.count }
      state.uploads[id] = session
      return located(id, ecr ? 201 : 202, range: ecr ? session.firstChunk : session.bytes.count)
    case .GET:
      return located(id, 204, range: ecr ? (session.firstChunk ?? 0) : session.bytes.count)
    case .PUT:
      let stored = session.bytes + body
      let digest = Digest(sha256Bytes: SHA256Hasher.hash(stored))
      guard query["digest"] == digest.description else {
        return Answer(status: 400, #"{"errors":[{"code":"DIGEST_INVALID"}]}"#)
      }
      state.blobs[digest.description] = stored
      state.links.insert("\(repository)@\(digest)")
      state.uploads[id] = nil
      return Answer(status: 201, headers: ["Docker-Content-Digest": digest.description])
    case .DELETE:
      state.uploads[id] = nil
      return Answer(status: 204)
    default:
      return Answer(status: 405)
    }
  }

  private func manifest(
    _ method: HTTPMethod, key: String, headers: HTTPHeaders, body: [UInt8], _ state: inout State
  ) -> Answer {
    let repository = key[..<key.lastIndex(of: ":")!]
    switch method {
    case .PUT:
      if immutableTags, !key.contains(":sha256:"), state.manifests[key] != nil {
        return Answer(status: 400, #"{"errors":[{"code":"TAG_INVALID","message":"the tag is immutable"}]}"#)
      }
      let digest = Digest(sha256Bytes: SHA256Hasher.hash(body))
      let type = headers.first(name: "Content-Type") ?? ""
      state.manifests[key] = (body, type)
      state.manifests["\(repository):\(digest)"] = (body, type)
      return Answer(status: 201, headers: ["Docker-Content-Digest": digest.description])
    case .GET, .HEAD:
      guard let stored = state.manifests[key] else {
        return Answer(status: 404, method == .HEAD ? "" : #"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#)
      }
      var answer = Answer(
        status: 200,
        headers: [
          "Content-Type": stored.type,
          "Docker-Content-Digest": Digest(sha256Bytes: SHA256Hasher.hash(stored.bytes)).description,
        ])
      if method == .GET { answer.body = stored.bytes }
      return answer
    default:
      return Answer(status: 405)
    }
  }
}
