import AsyncAlgorithms
import AsyncHTTPClient
import NIOCore
import OCI
import Synchronization

/// An upload session whose bytes stream straight into PATCH request bodies, so nothing is buffered.
///
/// A blob whose size is known goes in chunks of `chunkSize` (or the registry's `OCI-Chunk-Min-Length`),
/// each with its `Content-Range` and `Content-Length`, from the newest `Location`. A blob whose size shows
/// only at its end (a layer being compressed) goes as one PATCH of unknown length, as `docker push` sends
/// it. The offset is tracked by what was sent, never by the registry's `Range`, which ECR leaves at the
/// first chunk. The final PUT names the digest.
///
/// When a chunk fails for a passing reason and the blob can be read again (`reopen`), the session is asked
/// how much it holds (GET on its location); where that answer can be trusted (not on ECR) and lies between
/// what the registry acknowledged and what was sent, the bytes from there on are read again and sent, and
/// the upload goes on. Otherwise the error goes up and the engine starts the blob in a new session.
///
/// A blob that ends within its first `heldLimit` bytes is held and sent in the final PUT (POST, PUT: two
/// requests instead of three, as containerd sends blobs): an image of 100 small layers pushes in two thirds
/// of the requests.
public actor RegistryUpload: BlobUpload {
  let client: RegistryClient
  let repository: String
  private var location: String
  private let chunkSize: Int64
  /// The blob's size, when known before its bytes.
  private let size: Int64?
  /// Reads the blob again from an offset, to send what a failed chunk lost.
  private let reopen: BlobReopener?
  /// Bytes handed to PATCH requests so far.
  private var offset: Int64 = 0
  /// Bytes the registry has acknowledged.
  private var confirmed: Int64 = 0
  /// The tries of the operation this upload belongs to (the engine's for the blob), continuations included.
  private let budget: RetryBudget
  private var patch: StreamedPatch?
  /// Bytes the open PATCH still takes, when its length is known.
  private var patchRemaining: Int64?
  private var done = false
  /// The first bytes, held until they pass `heldLimit` (then they stream like the rest) or the blob ends.
  private var held = [UInt8]()

  init(
    client: RegistryClient, repository: String, chunkSize: Int, size: Int64?, reopen: BlobReopener?
  ) async throws {
    self.client = client
    self.repository = repository
    self.reopen = reopen
    let budget = RetryBudget.current ?? RetryBudget(policy: client.options.retryPolicy)
    self.budget = budget
    let (location, minimum) = try await RetryBudget.$current.withValue(budget) {
      try await client.startUpload(repository: repository, operation: "start an upload to \(client.host)/\(repository)")
    }
    self.location = location
    self.chunkSize = Int64(max(chunkSize, minimum, client.profile.minimumChunkSize))
    self.size = size
  }

  /// The most bytes handed to the transport at once.
  static let pieceSize = 64 << 10

  private var operation: String { "upload to \(client.host)/\(repository) at byte \(offset)" }

  /// How many first bytes are held rather than streamed.
  static let heldLimit = 256 << 10

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
      do {
        let patch = try self.patch ?? openPatch()
        // Small pieces: the transport holds at most one while the network is slow, never a whole block.
        let count = min(patchRemaining.map { Int(min($0, Int64(rest.count))) } ?? rest.count, Self.pieceSize)
        try await patch.send(ByteBuffer(bytes: rest.prefix(count)))
        rest = rest.dropFirst(count)
        offset += Int64(count)
        patchRemaining = patchRemaining.map { $0 - Int64(count) }
        if patchRemaining == 0 { try await closePatch() }
      } catch let error as RegistryError {
        try await continueAfter(error)
      }
    }
  }

  /// After a failed chunk: finds how much the session holds and sends again from there, or rethrows.
  private func continueAfter(_ error: RegistryError) async throws {
    patch?.abandon()
    patch = nil
    patchRemaining = nil
    guard let reopen, client.profile.reportsUploadOffsets, await budget.retry(after: error.category) else {
      throw error
    }
    let (current, repository, client) = (location, repository, client)
    let status = try? await RetryBudget.$current.withValue(budget) {
      try await client.uploadStatus(location: current, repository: repository)
    }
    guard let status, (confirmed...offset).contains(status.stored) else { throw error }
    location = status.location
    let sent = offset
    offset = status.stored
    confirmed = status.stored
    guard offset < sent else { return }
    let reader = try await reopen(offset)
    while offset < sent {
      let bytes = try await reader.read(maxLength: Int(min(1 << 20, sent - offset)))
      guard !bytes.isEmpty else { throw error }
      try await send(bytes[...])
    }
  }

  public func finish(digest: Digest, size: Int64) async throws {
    if patch != nil {
      do {
        try await closePatch()
      } catch let error as RegistryError {
        try await continueAfter(error)
      }
    }
    let last = held
    held = []
    offset += Int64(last.count)
    guard offset == size else {
      throw RegistryError(
        operation: operation, registry: client.host,
        reason: .protocolViolation("sent \(offset) bytes for a \(size)-byte blob"))
    }
    let (client, repository, location) = (client, repository, location)
    try await RetryBudget.$current.withValue(budget) {
      try await client.finishUpload(
        location: location, repository: repository, digest: digest, size: size, last: last,
        operation: "finish upload of blob \(digest) to \(client.host)/\(repository)")
    }
    done = true
  }

  public func cancel(keepPartial: Bool) async {
    patch?.abandon()
    patch = nil
    guard !done else { return }
    done = true
    let (url, client, repository) = (location, client, repository)
    // Detached, so that the DELETE goes out even when the push itself was cancelled (Ctrl-C).
    await Task.detached {
      _ = try? await client.send(
        operation: "cancel upload", scope: RegistryClient.pushScope(repository), resend: .never
      ) {
        var request = HTTPClientRequest(url: url)
        request.method = .DELETE
        return request
      }
    }.value
  }

  /// Starts the PATCH the next bytes go into: the next chunk of a blob of known size, else the whole rest.
  private func openPatch() throws -> StreamedPatch {
    let length = size.map { min(chunkSize, $0 - offset) }
    var request = HTTPClientRequest(url: location)
    request.method = .PATCH
    request.headers.add(name: "Content-Type", value: "application/octet-stream")
    let body = AsyncChannel<ByteBuffer>()
    if let length {
      guard length > 0 else {
        throw RegistryError(
          operation: operation, registry: client.host,
          reason: .protocolViolation("more bytes than the \(size ?? 0)-byte blob has"))
      }
      request.headers.add(name: "Content-Range", value: "\(offset)-\(offset + length - 1)")
      request.body = .stream(body, length: .known(length))
    } else {
      request.body = .stream(body, length: .unknown)
    }
    let patch = StreamedPatch(
      client: client, operation: operation, scope: RegistryClient.pushScope(repository), request: request, body: body)
    self.patch = patch
    patchRemaining = length
    return patch
  }

  /// Ends the open PATCH's body and takes the registry's answer, with the next `Location`.
  private func closePatch() async throws {
    guard let patch else { return }
    self.patch = nil
    let response = try await patch.finish()
    if let next = response.headers.first(name: "Location") { location = client.resolve(location: next) }
    confirmed = offset
  }
}

/// One PATCH whose body is written while it is being sent: `send` returns once the transport has taken
/// the bytes, so no more than one buffer waits in memory.
final class StreamedPatch: Sendable {
  private let body: AsyncChannel<ByteBuffer>
  private let response: Task<HTTPClientResponse, any Error>
  /// Set when the request has ended: answered, refused early, or broken off.
  private let ended = EndFlag()
  private let client: RegistryClient
  private let operation: String

  init(
    client: RegistryClient, operation: String, scope: String, request: HTTPClientRequest,
    body: AsyncChannel<ByteBuffer>
  ) {
    self.body = body
    self.client = client
    self.operation = operation
    let ended = self.ended
    response = Task {
      defer {
        ended.value.store(true, ordering: .releasing)
        body.finish()
      }
      return try await client.sendOnce(operation: operation, scope: scope, request)
    }
  }

  /// Hands bytes to the request body, waiting until the transport takes them. When the request has ended
  /// meanwhile, a refusal or a broken connection is thrown here; an acceptance (the registry can answer as
  /// soon as the last bytes arrive) is left for `finish` to return.
  func send(_ bytes: ByteBuffer) async throws {
    await body.send(bytes)
    if ended.value.load(ordering: .acquiring) { _ = try await finish() }
  }

  /// Ends the body and returns the registry's answer, which must accept the bytes (202, or what the
  /// registry's profile says).
  func finish() async throws -> HTTPClientResponse {
    body.finish()
    let response = try await response.value
    guard client.profile.chunkAccepted.contains(response.status.code) else {
      throw await client.error(for: response, operation: operation)
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
