import AsyncHTTPClient
import NIOCore
import OCI
import Synchronization
import Transport

/// An upload session whose bytes stream straight into PATCH request bodies, so nothing is buffered.
///
/// A blob whose size is known goes in chunks of `chunkSize` (or the registry's `OCI-Chunk-Min-Length`),
/// each with its `Content-Range` and `Content-Length`, from the newest `Location`. A blob whose size shows
/// only at its end (a layer being compressed) goes as one PATCH of unknown length, as `docker push` sends
/// it. The offset is tracked by what was sent, never by the registry's `Range`, which ECR leaves at the
/// first chunk. The final PUT names the digest (`RegistryClient.finishUpload`).
///
/// Nothing here tries again: a failure goes up to the engine, whose next try of the blob begins a new
/// upload. When the transfer broke off and the blob can be read again, the session is parked instead of
/// cancelled (`ParkedUploads`), and the next upload of the same blob asks it how much it holds (GET on
/// its location): where that answer can be trusted (not on ECR) and lies between what the registry
/// acknowledged and what was sent, the engine hashes that much of the source again (`storedPrefix`) and
/// sends only the rest, in the same session, as a file destination continues its partial file.
///
/// A blob that ends within its first `heldLimit` bytes is held and sent in the final PUT (POST, PUT: two
/// requests instead of three, as containerd sends blobs): an image of 100 small layers pushes in two thirds
/// of the requests. The session is opened (POST) when the first bytes go, or when the blob is finished.
public actor RegistryUpload: BlobUpload {
  let client: RegistryClient
  let repository: String
  /// The session's newest location, once it is open.
  private var location: String?
  private let requestedChunkSize: Int
  private var chunkSize: Int64 = 0
  /// The blob, when known before its bytes: what a parked session is found by.
  private let expected: Descriptor?
  /// Reads the blob again from an offset: without it, a broken-off session cannot be continued.
  private let reopen: BlobReopener?
  private let parked: ParkedUploads
  /// The tries the upload's requests draw on: the blob's, or each request's own when nil.
  private let budget: RetryBudget?
  /// Bytes handed to PATCH requests so far.
  private var offset: Int64 = 0
  /// Bytes the registry has acknowledged.
  private var confirmed: Int64 = 0
  private var patch: StreamedPatch?
  /// Bytes the open PATCH still takes, when its length is known.
  private var patchRemaining: Int64?
  private var done = false
  /// The first bytes, held until they pass `heldLimit` (then they stream like the rest) or the blob ends.
  private var held = [UInt8]()

  init(
    client: RegistryClient, repository: String, chunkSize: Int, expected: Descriptor?, reopen: BlobReopener?,
    parked: ParkedUploads, budget: RetryBudget?
  ) {
    self.client = client
    self.budget = budget
    self.repository = repository
    self.requestedChunkSize = chunkSize
    self.expected = expected
    self.reopen = reopen
    self.parked = parked
  }

  /// The most bytes handed to the transport at once.
  static let pieceSize = 64 << 10

  private var operation: String { "upload to \(client.host)/\(repository) at byte \(offset)" }

  /// How many first bytes are held rather than streamed.
  static let heldLimit = 256 << 10

  /// Continues the session an earlier try of this blob parked, if the registry can say how much of it it
  /// holds: returns that much of the blob, read again from the source, for the engine to hash.
  public func storedPrefix() async throws -> (any BlobReader)? {
    guard let expected, let reopen, let session = await parked.take(expected.digest) else { return nil }
    let status = try? await client.uploadStatus(location: session.location, repository: repository, budget: budget)
    guard let status, (session.confirmed...session.sent).contains(status.stored) else {
      await Self.delete(session.location, client: client, repository: repository)
      return nil
    }
    try await open(at: status.location)
    (offset, confirmed) = (status.stored, status.stored)
    guard status.stored > 0 else { return nil }
    return PrefixReader(try await reopen(0), length: status.stored)
  }

  public func write(_ bytes: [UInt8]) async throws {
    if offset == 0 && patch == nil && held.count + bytes.count <= Self.heldLimit {
      held += bytes
      return
    }
    if !held.isEmpty {
      let first = held
      held = []
      try await send(first[...])
    }
    try await send(bytes[...])
  }

  private func send(_ bytes: ArraySlice<UInt8>) async throws {
    var rest = bytes
    while !rest.isEmpty {
      let patch: StreamedPatch
      if let open = self.patch { patch = open } else { patch = try await openPatch() }
      // Small pieces: the transport holds at most one while the network is slow, never a whole block.
      let count = min(patchRemaining.map { Int(min($0, Int64(rest.count))) } ?? rest.count, Self.pieceSize)
      try await patch.send(ByteBuffer(bytes: rest.prefix(count)))
      rest = rest.dropFirst(count)
      offset += Int64(count)
      patchRemaining = patchRemaining.map { $0 - Int64(count) }
      if patchRemaining == 0 { try await closePatch() }
    }
  }

  public func finish(digest: Digest, size: Int64) async throws {
    try await closePatch()
    let last = held
    held = []
    offset += Int64(last.count)
    guard offset == size else {
      throw RegistryError(
        operation: operation, registry: client.host,
        reason: .protocolViolation("sent \(offset) bytes for a \(size)-byte blob"))
    }
    let location = try await open()
    do {
      try await client.finishUpload(
        location: location, repository: repository, digest: digest, size: size, last: last,
        operation: "finish upload of blob \(digest) to \(client.host)/\(repository)", budget: budget)
    } catch let error as RegistryError {
      // A session the registry no longer knows is neither continued nor cancelled.
      if case .uploadSessionLost = error.reason { self.location = nil }
      throw error
    }
    done = true
  }

  /// Parks the session for the next try of the blob when the transfer broke off and it can be continued
  /// there; otherwise cancels it (DELETE).
  public func cancel(keepPartial: Bool) async {
    patch?.abandon()
    patch = nil
    guard !done, let location else { return }
    done = true
    if keepPartial, let expected, reopen != nil, client.profile.reportsUploadOffsets {
      await parked.park(expected.digest, ParkedUploads.Session(location: location, sent: offset, confirmed: confirmed))
      return
    }
    await Self.delete(location, client: client, repository: repository)
  }

  /// Cancels a session (DELETE), detached so that it goes out even when the push itself was cancelled.
  static func delete(_ location: String, client: RegistryClient, repository: String) async {
    await Task.detached {
      _ = try? await client.send(
        operation: "cancel upload", scope: RegistryClient.pushScope(repository), resend: .never
      ) {
        var request = HTTPClientRequest(url: location)
        request.method = .DELETE
        return request
      }
    }.value
  }

  /// The session's location, opening it (POST) the first time, or adopting `existing`.
  @discardableResult
  private func open(at existing: String? = nil) async throws -> String {
    if let existing { location = existing }
    if let location { return location }
    let (opened, minimum) = try await client.startUpload(
      repository: repository, operation: "start an upload to \(client.host)/\(repository)", budget: budget)
    chunkSize = Int64(max(requestedChunkSize, minimum, client.profile.minimumChunkSize))
    location = opened
    return opened
  }

  /// Starts the PATCH the next bytes go into: the next chunk of a blob of known size, else the whole rest.
  private func openPatch() async throws -> StreamedPatch {
    let url = try await open()
    if chunkSize == 0 { chunkSize = Int64(max(requestedChunkSize, client.profile.minimumChunkSize)) }
    let length = expected.map { min(chunkSize, $0.size - offset) }
    var request = HTTPClientRequest(url: url)
    request.method = .PATCH
    request.headers.add(name: "Content-Type", value: "application/octet-stream")
    let body = StreamedBody()
    if let length {
      guard length > 0 else {
        throw RegistryError(
          operation: operation, registry: client.host,
          reason: .protocolViolation("more bytes than the \(expected?.size ?? 0)-byte blob has"))
      }
      request.headers.add(name: "Content-Range", value: "\(offset)-\(offset + length - 1)")
    }
    request.body = body.body(length: length)
    let patch = StreamedPatch(
      client: client, operation: operation, scope: RegistryClient.pushScope(repository), request: request, body: body,
      budget: budget)
    self.patch = patch
    patchRemaining = length
    return patch
  }

  /// Ends the open PATCH's body, if any, and takes the registry's answer, with the next `Location`.
  private func closePatch() async throws {
    guard let patch else { return }
    self.patch = nil
    let response = try await patch.finish()
    if let next = response.headers.first(name: "Location") { location = client.resolve(location: next) }
    confirmed = offset
  }
}

/// One PATCH whose body is written while it is being sent: `send` returns once the transport has queued
/// the bytes on its socket, so no more than one piece waits in memory.
final class StreamedPatch: Sendable {
  private let body: StreamedBody
  private let response: Task<HTTPClientResponse, any Error>
  /// Set when the request has ended: answered, refused early, or broken off.
  private let ended = EndFlag()
  private let client: RegistryClient
  private let operation: String
  private let budget: RetryBudget?

  init(
    client: RegistryClient, operation: String, scope: String, request: HTTPClientRequest,
    body: StreamedBody, budget: RetryBudget?
  ) {
    self.body = body
    self.client = client
    self.operation = operation
    self.budget = budget
    let ended = self.ended
    response = Task {
      defer {
        ended.value.store(true, ordering: .releasing)
        body.finish()
      }
      return try await client.sendOnce(operation: operation, scope: scope, budget: budget, request)
    }
  }

  /// Hands bytes to the request body, waiting until the transport takes them. When the request has ended
  /// meanwhile, a refusal or a broken connection is thrown here; an acceptance (the registry can answer as
  /// soon as the last bytes arrive) is left for `finish` to return.
  func send(_ bytes: ByteBuffer) async throws {
    await body.write(bytes)
    if ended.value.load(ordering: .acquiring) { _ = try await finish() }
  }

  /// Ends the body and returns the registry's answer, which must accept the bytes (202, or what the
  /// registry's profile says).
  func finish() async throws -> HTTPClientResponse {
    body.finish()
    let response = try await response.value
    guard client.profile.chunkAccepted.contains(response.status.code) else {
      throw await client.error(for: response, operation: operation, budget: budget)
    }
    _ = try? await response.body.collect(upTo: 1 << 16)
    return response
  }

  /// Stops the request where it is.
  func abandon() {
    body.finish()
    response.cancel()
  }
}

/// A flag the request task sets and the writer reads.
private final class EndFlag: Sendable {
  let value = Atomic<Bool>(false)
}
