import AsyncHTTPClient
import Foundation
import NIOCore
import OCI
import Transport

extension RegistryClient {
  /// The token scope for pushing to a repository.
  static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

  /// The token scope for reading a repository.
  static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }

  /// Whether the repository has the blob (HEAD).
  public func blobExists(repository: String, digest: Digest) async throws -> Bool {
    let operation = "check blob \(digest) in \(host)/\(repository)"
    return try await budgeted { _ in
      let response = try await send(operation: operation, scope: Self.pushScope(repository)) {
        var request = HTTPClientRequest(url: url("\(repository)/blobs/\(digest)"))
        request.method = .HEAD
        return request
      }
      switch response.status.code {
      case 200: return true
      case 404: return false
      default: throw await error(for: response, operation: operation)
      }
    }
  }

  /// Opens an upload session (POST); returns its location and the smallest chunk the registry takes.
  func startUpload(repository: String, operation: String) async throws -> (location: String, minimumChunk: Int) {
    let (response, _) = try await call(
      operation: operation, scope: Self.pushScope(repository), expect: [202], repeatable: true
    ) {
      var request = HTTPClientRequest(url: url("\(repository)/blobs/uploads/"))
      request.method = .POST
      request.headers.add(name: "Content-Length", value: "0")
      return request
    }
    guard let location = response.headers.first(name: "Location") else {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("upload started without a Location"))
    }
    let minimum = response.headers.first(name: "OCI-Chunk-Min-Length").flatMap(Int.init) ?? 0
    return (resolve(location: location), minimum)
  }

  /// Asks the registry to link a blob from another of its repositories (201); when it answers with an
  /// upload session instead (202: mounting is off, or the blob is not there), the session is cancelled.
  public func mountBlob(repository: String, digest: Digest, from origin: String) async throws -> Bool {
    let operation = "mount blob \(digest) from \(host)/\(origin) into \(repository)"
    let scope = Self.pushScope(repository) + " " + Self.pullScope(origin)
    let (response, _) = try await call(operation: operation, scope: scope, expect: [201, 202]) {
      var request = HTTPClientRequest(url: url("\(repository)/blobs/uploads/?mount=\(digest)&from=\(origin)"))
      request.method = .POST
      request.headers.add(name: "Content-Length", value: "0")
      return request
    }
    if response.status.code == 201 { return true }
    if let location = response.headers.first(name: "Location") {
      let session = resolve(location: location)
      _ = try? await send(operation: operation, scope: Self.pushScope(repository)) {
        var request = HTTPClientRequest(url: session)
        request.method = .DELETE
        return request
      }
    }
    return false
  }

  /// How many bytes an upload session holds (GET on its location) and its newest location; nil when the
  /// registry does not say. `Range: 0-0` is read as nothing stored, as distribution reports an empty upload.
  func uploadStatus(location: String, repository: String) async throws -> (stored: Int64, location: String)? {
    let (response, _) = try await call(
      operation: "ask \(host)/\(repository) how far an upload got", scope: Self.pushScope(repository), expect: [204]
    ) { HTTPClientRequest(url: location) }
    guard let range = response.headers.first(name: "Range"),
      let end = range.split(separator: "-").last.flatMap({ Int64($0) })
    else { return nil }
    let next = response.headers.first(name: "Location").map(resolve(location:)) ?? location
    return (end == 0 ? 0 : end + 1, next)
  }

  /// Appends `digest=` to an upload location, keeping the query the registry put there.
  static func finishURL(_ location: String, digest: Digest) -> String {
    location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
  }

  /// Uploads a small blob whose digest is known: POST, then one PUT with the bytes.
  public func putBlob(repository: String, bytes: Data, digest: Digest) async throws {
    let operation = "upload blob \(digest) to \(host)/\(repository)"
    let (location, _) = try await startUpload(repository: repository, operation: operation)
    _ = try await call(operation: operation, scope: Self.pushScope(repository), expect: [201, 204]) {
      var request = HTTPClientRequest(url: Self.finishURL(location, digest: digest))
      request.method = .PUT
      request.headers.add(name: "Content-Type", value: "application/octet-stream")
      request.headers.add(name: "Content-Length", value: String(bytes.count))
      request.body = .bytes(ByteBuffer(bytes: bytes))
      return request
    }
  }
}

extension RegistryClient {
  /// Opens a blob for streaming (GET, following redirects to storage hosts without credentials), from
  /// `offset` on with a `Range` request; a registry that ignores the range has the skipped bytes read away.
  public func openBlob(repository: String, digest: Digest, offset: Int64 = 0) async throws -> any BlobReader {
    let operation = "fetch blob \(digest) from \(host)/\(repository)"
    return try await budgeted { _ in
      let response = try await send(operation: operation, scope: Self.pullScope(repository)) {
        var request = HTTPClientRequest(url: url("\(repository)/blobs/\(digest)"))
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        return request
      }
      switch response.status.code {
      case 206 where offset > 0:
        return ResponseBodyReader(body: response.body, operation: operation, registry: host)
      case 200:
        let reader = ResponseBodyReader(body: response.body, operation: operation, registry: host)
        try await reader.skip(offset)
        return reader
      default:
        throw await error(for: response, operation: operation)
      }
    }
  }

  /// Fetches a small blob (a config) whole, refusing more than `limit` bytes; a download that breaks off
  /// starts again while the operation's budget lasts.
  public func blob(repository: String, digest: Digest, limit: Int) async throws -> Data {
    try await budgeted { budget in
      while true {
        do {
          return try await readWhole(repository: repository, digest: digest, limit: limit)
        } catch let error as RegistryError where error.category == .transient {
          guard await budget.retry(after: error.category) else { throw error }
        }
      }
    }
  }

  private func readWhole(repository: String, digest: Digest, limit: Int) async throws -> Data {
    let reader = try await openBlob(repository: repository, digest: digest)
    var data = Data()
    while true {
      let chunk = try await reader.read(maxLength: 1 << 20)
      if chunk.isEmpty { return data }
      data.append(contentsOf: chunk)
      guard data.count <= limit else {
        throw RegistryError(
          operation: "fetch blob \(digest) from \(host)/\(repository)", registry: host,
          reason: .protocolViolation("the blob is larger than \(limit) bytes"))
      }
    }
  }
}

/// Reads a response body as a blob, a buffer at a time. Like every `BlobReader`, it is read by one task
/// at a time, which is what makes the unchecked `Sendable` sound.
final class ResponseBodyReader: BlobReader, @unchecked Sendable {
  private var iterator: HTTPClientResponse.Body.AsyncIterator
  private var pending = ByteBuffer()
  private let operation: String
  private let registry: String

  init(body: HTTPClientResponse.Body, operation: String, registry: String) {
    self.iterator = body.makeAsyncIterator()
    self.operation = operation
    self.registry = registry
  }

  /// Reads up to `maxLength` bytes, gathering the transport's small buffers into one piece.
  func read(maxLength: Int) async throws -> [UInt8] {
    var out = [UInt8]()
    while out.count < maxLength {
      if pending.readableBytes == 0 {
        do {
          guard let next = try await iterator.next() else { break }
          pending = next
        } catch is CancellationError {
          throw CancellationError()
        } catch {
          throw RegistryError(operation: operation, registry: registry, reason: .unreachable(ConnectionFailure(error)))
        }
      }
      let take = min(maxLength - out.count, pending.readableBytes)
      if out.isEmpty { out.reserveCapacity(min(maxLength, 1 << 20)) }
      pending.withUnsafeReadableBytes { out.append(contentsOf: $0.prefix(take)) }
      pending.moveReaderIndex(forwardBy: take)
    }
    return out
  }
}
