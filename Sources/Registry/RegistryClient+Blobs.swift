import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Transport

extension RegistryClient {
  /// The token scope for pushing to a repository.
  static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

  /// The token scope for reading a repository.
  static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }

  /// Whether the repository has the blob (HEAD). The methods that move blobs draw their tries from
  /// `budget` when given one (the blob's), else from one of their own.
  public func blobExists(repository: String, digest: Digest, budget: RetryBudget? = nil) async throws -> Bool {
    try await blobSize(repository: repository, digest: digest, budget: budget) != nil
  }

  /// The size of the blob as the repository holds it (HEAD), nil when it holds none.
  func blobSize(repository: String, digest: Digest, budget: RetryBudget?) async throws -> Int64? {
    let operation = "check blob \(digest) in \(host)/\(repository)"
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    let response = try await send(operation: operation, scope: Self.pushScope(repository), budget: budget) {
      var request = HTTPClientRequest(url: url("\(repository)/blobs/\(digest)"))
      request.method = .HEAD
      return request
    }
    switch response.status.code {
    case 200: return response.headers.first(name: "Content-Length").flatMap(Int64.init) ?? -1
    case 404: return nil
    default: throw await error(for: response, operation: operation, budget: budget)
    }
  }

  /// The look for a request that stores a blob (finishing an upload, a mount): after a lost answer, the blob
  /// there with `size` bytes (any, when nil) means the request did its work, and stands in for the answer.
  func storedBlobLook(repository: String, digest: Digest, size: Int64?, budget: RetryBudget?) -> Resend.Look {
    { [self] in
      guard let stored = try await blobSize(repository: repository, digest: digest, budget: budget),
        size == nil || stored == size || stored < 0
      else { return nil }
      var headers = HTTPHeaders()
      headers.add(name: "Docker-Content-Digest", value: digest.description)
      return HTTPClientResponse(status: .created, headers: headers)
    }
  }

  /// Opens an upload session (POST); returns its location and the smallest chunk the registry takes.
  func startUpload(
    repository: String, operation: String, budget: RetryBudget?
  ) async throws -> (location: String, minimumChunk: Int) {
    let (response, _) = try await call(
      operation: operation, scope: Self.pushScope(repository), expect: [202], resend: .asIs, budget: budget
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
  /// A lost answer is settled by looking for the blob in the repository.
  public func mountBlob(
    repository: String, digest: Digest, from origin: String, budget: RetryBudget? = nil
  ) async throws -> Bool {
    let operation = "mount blob \(digest) from \(host)/\(origin) into \(repository)"
    let scope = Self.pushScope(repository) + " " + Self.pullScope(origin)
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    let look = storedBlobLook(repository: repository, digest: digest, size: nil, budget: budget)
    let (response, _) = try await call(
      operation: operation, scope: scope, expect: [201, 202], resend: .lookingFirst(look), budget: budget
    ) {
      var request = HTTPClientRequest(url: url("\(repository)/blobs/uploads/?mount=\(digest)&from=\(origin)"))
      request.method = .POST
      request.headers.add(name: "Content-Length", value: "0")
      return request
    }
    if response.status.code == 201 { return true }
    if let location = response.headers.first(name: "Location") {
      let session = resolve(location: location)
      _ = try? await send(operation: operation, scope: Self.pushScope(repository), budget: budget) {
        var request = HTTPClientRequest(url: session)
        request.method = .DELETE
        return request
      }
    }
    return false
  }

  /// How many bytes an upload session holds (GET on its location) and its newest location; nil when the
  /// registry does not say. `Range: 0-0` is read as nothing stored, as distribution reports an empty upload.
  func uploadStatus(
    location: String, repository: String, budget: RetryBudget?
  ) async throws -> (stored: Int64, location: String)? {
    let (response, _) = try await call(
      operation: "ask \(host)/\(repository) how far an upload got", scope: Self.pushScope(repository), expect: [204],
      budget: budget
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

  /// Uploads a small blob whose digest is known: POST, then one PUT with the bytes (see `finishUpload`).
  public func putBlob(repository: String, bytes: Data, digest: Digest, budget: RetryBudget? = nil) async throws {
    let operation = "upload blob \(digest) to \(host)/\(repository)"
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    let (location, _) = try await startUpload(repository: repository, operation: operation, budget: budget)
    try await finishUpload(
      location: location, repository: repository, digest: digest, size: Int64(bytes.count), last: Array(bytes),
      operation: operation, budget: budget)
  }

  /// Finishes an upload session with `PUT ?digest=`, sending `last`, the bytes not sent yet. The registry
  /// refuses the same PUT once it has acted (the session is used), so after a lost answer the blob is looked
  /// for first: there with `size` bytes, the upload is done; a session the registry no longer knows fails
  /// as passing (`BLOB_UPLOAD_UNKNOWN`), for the caller to start a new one from the same budget.
  func finishUpload(
    location: String, repository: String, digest: Digest, size: Int64, last: [UInt8], operation: String,
    budget: RetryBudget?
  ) async throws {
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    let look = storedBlobLook(repository: repository, digest: digest, size: size, budget: budget)
    let (response, _) = try await call(
      operation: operation, scope: Self.pushScope(repository), expect: [201, 204, 404], resend: .lookingFirst(look),
      budget: budget
    ) {
      var request = HTTPClientRequest(url: Self.finishURL(location, digest: digest))
      request.method = .PUT
      request.headers.add(name: "Content-Length", value: String(last.count))
      if !last.isEmpty {
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: last))
      }
      return request
    }
    if response.status.code == 404 {
      throw RegistryError(
        operation: operation, registry: host, reason: .uploadSessionLost, attempts: budget.attempts)
    }
    if let stored = response.headers.first(name: "Docker-Content-Digest"), stored != digest.description {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("it stored the blob as \(stored)"))
    }
  }
}

extension RegistryClient {
  /// Opens a blob for streaming (GET, following redirects to storage hosts without credentials), from
  /// `offset` on with a `Range` request; a registry that ignores the range has the skipped bytes read away.
  public func openBlob(
    repository: String, digest: Digest, offset: Int64 = 0, budget: RetryBudget? = nil
  ) async throws -> any BlobReader {
    let operation = "fetch blob \(digest) from \(host)/\(repository)"
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    let response = try await send(operation: operation, scope: Self.pullScope(repository), budget: budget) {
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
      throw await error(for: response, operation: operation, budget: budget)
    }
  }

  /// Fetches a small blob (a config) whole, refusing more than `limit` bytes; a download that breaks off
  /// is sent again by the request path while the operation's budget lasts.
  public func blob(repository: String, digest: Digest, limit: Int) async throws -> Data {
    let operation = "fetch blob \(digest) from \(host)/\(repository)"
    return try await call(operation: operation, scope: Self.pullScope(repository), expect: [200], bodyLimit: limit) {
      HTTPClientRequest(url: url("\(repository)/blobs/\(digest)"))
    }.1
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
