import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OCI
import Streams
import Transport

extension RegistryClient {
  /// Fetches a manifest or index by tag or digest; nil when the registry has none under that reference.
  /// `forPush` asks for a token that also allows pushing (one token serves the whole push).
  public func manifest(repository: String, reference: String, forPush: Bool = false) async throws -> (
    bytes: Data, mediaType: String
  )? {
    let operation = "fetch manifest \(host)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
    let scope = forPush ? Self.pushScope(repository) : Self.pullScope(repository)
    try await pullFloor?.admit(host: host) { [self] in
      try await rateLimit(repository: repository, reference: reference)
    }
    let (response, body): (HTTPClientResponse, Data)
    do {
      (response, body) = try await call(
        operation: operation, scope: scope, expect: [200, 404], bodyLimit: maximumDocumentSize
      ) {
        var request = HTTPClientRequest(url: url("\(repository)/manifests/\(reference)"))
        request.headers.add(name: "Accept", value: MediaType.allManifests.joined(separator: ", "))
        return request
      }
    } catch {
      await pullFloor?.note(nil)
      throw error
    }
    await pullFloor?.note(RateLimit(headers: response.headers))
    if response.status.code == 404 { return nil }
    let mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map(String.init) ?? ""
    return (body, mediaType)
  }

  /// Stores a manifest under a tag or digest; returns the digest the registry reports and, when it
  /// indexed the manifest's `subject` for its referrers API, that subject (`OCI-Subject`). A put whose
  /// answer was lost goes again; if the repeat is refused (an immutable tag that the lost try set), the
  /// reference holding these bytes' digest settles it.
  public func putManifest(
    repository: String, reference: String, bytes: Data, mediaType: String
  ) async throws -> StoredManifest {
    let operation = "put manifest \(host)/\(repository):\(reference)"
    let computed = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
    let look: Resend.Look = { [self] in
      guard try await manifestDigest(repository: repository, reference: reference) == computed else { return nil }
      var headers = HTTPHeaders()
      headers.add(name: "Docker-Content-Digest", value: computed.description)
      return HTTPClientResponse(status: .created, headers: headers)
    }
    let (response, _) = try await call(
      operation: operation, scope: Self.pushScope(repository), expect: [200, 201, 202],
      resend: .lookingWhenRefused(look)
    ) {
      var request = HTTPClientRequest(url: url("\(repository)/manifests/\(reference)"))
      request.method = .PUT
      request.headers.add(name: "Content-Type", value: mediaType)
      request.headers.add(name: "Content-Length", value: String(bytes.count))
      request.body = .bytes(ByteBuffer(bytes: bytes))
      return request
    }
    let subject = response.headers.first(name: "OCI-Subject").flatMap { try? Digest($0) }
    guard let header = response.headers.first(name: "Docker-Content-Digest") else {
      return StoredManifest(digest: computed, indexedSubject: subject)
    }
    guard let reported = try? Digest(header) else {
      throw RegistryError(
        operation: operation, registry: host,
        reason: .protocolViolation("Docker-Content-Digest \(header.prefix(80)) is not a digest"))
    }
    return StoredManifest(digest: reported, indexedSubject: subject)
  }
}

extension RegistryClient {
  /// The digest of the manifest a tag or digest names (HEAD: nothing but headers), nil when there is none;
  /// asked with the rights to pull, or (`forPush`) to push, so that the token serves the push that follows.
  public func manifestDigest(repository: String, reference: String, forPush: Bool) async throws -> Digest? {
    try await manifestDigest(
      repository: repository, reference: reference,
      scope: forPush ? Self.pushScope(repository) : Self.pullScope(repository))
  }

  /// The digest of the manifest a tag or digest names (HEAD), nil when there is none.
  func manifestDigest(repository: String, reference: String, scope: String? = nil) async throws -> Digest? {
    let operation = "check manifest \(host)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
    let response = try await headManifest(
      repository: repository, reference: reference, scope: scope ?? Self.pushScope(repository), operation: operation)
    guard response.status.code == 200 else { return nil }
    guard let header = response.headers.first(name: "Docker-Content-Digest"), let found = try? Digest(header) else {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("no Docker-Content-Digest for the manifest"))
    }
    return found
  }

  /// The pull limit the registry states on a HEAD of the manifest `reference` names (Docker Hub does not
  /// count a HEAD); nil when it states none.
  public func rateLimit(repository: String, reference: String) async throws -> RateLimit? {
    let response = try await headManifest(
      repository: repository, reference: reference, scope: Self.pullScope(repository),
      operation: "ask \(host)/\(repository) for its rate limit")
    return RateLimit(headers: response.headers)
  }

  /// A HEAD of the manifest a tag or digest names; 200 or 404, else an error.
  private func headManifest(
    repository: String, reference: String, scope: String, operation: String
  ) async throws -> HTTPClientResponse {
    try await call(operation: operation, scope: scope, expect: [200, 404]) {
      var request = HTTPClientRequest(url: url("\(repository)/manifests/\(reference)"))
      request.method = .HEAD
      request.headers.add(name: "Accept", value: MediaType.allManifests.joined(separator: ", "))
      return request
    }.0
  }
}

extension RegistryClient {
  /// Puts the manifest or index that `reference` (a tag or digest) names under each of `tags`, its bytes
  /// and type as stored, as `hoist tag` does; returns its digest.
  public func tag(repository: String, reference: String, as tags: [String]) async throws -> Digest {
    guard let (bytes, served) = try await manifest(repository: repository, reference: reference, forPush: true) else {
      throw SourceError.notFound("\(host)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)")
    }
    let mediaType = RegistrySource.mediaType(served: served, bytes: bytes)
    var stored = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
    for tag in tags {
      stored = try await putManifest(repository: repository, reference: tag, bytes: bytes, mediaType: mediaType).digest
    }
    return stored
  }
}

/// What a registry says of a manifest it stored.
public struct StoredManifest: Sendable {
  /// The digest it stored the manifest under.
  public var digest: Digest
  /// The subject it indexed for its referrers API (`OCI-Subject`); nil when it did not.
  public var indexedSubject: Digest?
}

extension RegistryClient {
  /// Deletes a manifest by tag or digest (a tag is first resolved to its digest, as the spec requires).
  public func deleteManifest(repository: String, reference: String) async throws -> Digest {
    let operation = "delete \(host)/\(repository):\(reference)"
    let digest: Digest
    if let given = try? Digest(reference) {
      digest = given
    } else {
      guard
        let found = try await manifestDigest(
          repository: repository, reference: reference, scope: Self.deleteScope(repository))
      else {
        throw RegistryError(
          operation: operation, registry: host,
          reason: .status(404, codes: [(code: "MANIFEST_UNKNOWN", message: "no manifest under that tag")]))
      }
      digest = found
    }
    _ = try await call(operation: operation, scope: Self.deleteScope(repository), expect: [200, 202]) {
      var request = HTTPClientRequest(url: url("\(repository)/manifests/\(digest)"))
      request.method = .DELETE
      return request
    }
    return digest
  }

  /// The token scope for deleting from a repository.
  static func deleteScope(_ repository: String) -> String { "repository:\(repository):pull,push,delete" }

  /// Every repository the registry lists at `/v2/_catalog`, following its pagination.
  public func catalog() async throws -> [String] {
    struct Catalog: Decodable { var repositories: [String]? }
    return try await pages(
      from: url("_catalog?n=1000"), operation: "list repositories in \(host)", scope: "registry:catalog:*"
    ) { (try? JSONDecoder().decode(Catalog.self, from: $0))?.repositories ?? [] } ?? []
  }

  /// The items of a listing that the registry splits into pages chained by `Link: <…>; rel="next"`, up to
  /// a little over `limit`; nil when the first page answers 404 and `absentIf404` is set.
  func pages<Item>(
    from first: String, operation: String, scope: String, limit: Int = 1_000_000, absentIf404: Bool = false,
    items: (Data) throws -> [Item]
  ) async throws -> [Item]? {
    var all = [Item]()
    var next: String? = first
    var trail = PageTrail()
    while let page = next, all.count <= limit {
      try trail.visit(page, listing: operation)
      let expected: Set<UInt> = absentIf404 && page == first ? [200, 404] : [200]
      let (response, body) = try await call(operation: operation, scope: scope, expect: expected) {
        HTTPClientRequest(url: page)
      }
      if response.status.code == 404 { return nil }
      all += try items(body)
      next = response.headers.first(name: "Link").flatMap(Self.nextLink).map { resolve(location: $0) }
    }
    return all
  }

  /// The target of a `Link: <…>; rel="next"` header.
  static func nextLink(_ header: String) -> String? {
    guard header.contains("rel=\"next\""), let start = header.firstIndex(of: "<"), let end = header.firstIndex(of: ">"),
      start < end
    else { return nil }
    return String(header[header.index(after: start)..<end])
  }
}

extension RegistryClient {
  /// Every tag of a repository (`/tags/list`), following the registry's pagination.
  public func tags(repository: String) async throws -> [String] {
    struct TagList: Decodable { var tags: [String]? }
    return try await pages(
      from: url("\(repository)/tags/list?n=1000"), operation: "list tags of \(host)/\(repository)",
      scope: Self.pullScope(repository)
    ) { (try? JSONDecoder().decode(TagList.self, from: $0))?.tags ?? [] } ?? []
  }
}
