import OCI
import Streams

/// The stages one blob passes through in a copy, in order: `VerifiedRead` (read, hash, check against the
/// descriptor), `OrderedCompression` (when the layer is to be compressed), and `FanOut` (hash what is sent,
/// write it to every upload, finish or cancel them together). `CopyJob.stream` joins them.

/// Reads a blob from its source and checks it against its descriptor on the way: never more bytes than it
/// claims, and at the end exactly its size and digest.
struct VerifiedRead {
  let descriptor: Descriptor
  let source: String
  private let reader: any BlobReader
  private let hash = SHA256Hasher()
  private(set) var bytesRead: Int64 = 0

  /// Hashes `prefix` first (what an interrupted upload left, being continued), then reads the rest from
  /// the reader `open` gives for the offset where the prefix ends.
  init(
    _ descriptor: Descriptor, source: String, prefix: (any BlobReader)? = nil, readSize: Int = 1 << 20,
    open: (Int64) async throws -> any BlobReader
  ) async throws {
    self.descriptor = descriptor
    self.source = source
    if let prefix {
      while case let chunk = try await prefix.read(maxLength: readSize), !chunk.isEmpty {
        hash.update(chunk)
        bytesRead += Int64(chunk.count)
      }
    }
    reader = try await open(bytesRead)
  }

  /// The next bytes, at most `maxLength`; empty at the end of the blob.
  mutating func next(maxLength: Int) async throws -> [UInt8] {
    let limit = Int(min(Int64(maxLength), descriptor.size - bytesRead + 1))
    let chunk = try await reader.read(maxLength: max(limit, 1))
    bytesRead += Int64(chunk.count)
    guard bytesRead <= descriptor.size else {
      throw mismatch("longer than the \(descriptor.size) bytes its descriptor says")
    }
    hash.update(chunk)
    return chunk
  }

  /// Checks the whole blob's size and digest; returns the digest.
  func verify() throws -> Digest {
    guard bytesRead == descriptor.size else {
      throw mismatch("\(bytesRead) bytes where its descriptor says \(descriptor.size)")
    }
    let actual = Digest(sha256Bytes: hash.finalize())
    guard actual == descriptor.digest else { throw mismatch("content hashes to \(actual)") }
    return actual
  }

  private func mismatch(_ reason: String) -> TransferError {
    TransferError.blobMismatch(source: source, digest: descriptor.digest, reason: reason)
  }
}

/// Compresses a stream in whole blocks, several at once on other threads, and gives the compressed blocks
/// back in input order. A block holds a slot from `slots` (shared by every layer of the copy) from before it
/// is compressed until it is given back to be sent, so the blocks in memory stay as few when the network is
/// the slower side as when compression is: back-pressure from the upload to the compressors. A blob that
/// finds no slot free gives back its own oldest blocks first, so that no blob waits for slots it holds.
struct OrderedCompression {
  let codec: LayerCompression
  let slots: Slots
  /// Blocks compressing at once for this blob before the oldest is waited for.
  let depth: Int
  private var block = [UInt8]()
  private var inFlight = [Task<[UInt8], Never>]()
  private var blocks = 0

  init(codec: LayerCompression, slots: Slots, depth: Int) {
    self.codec = codec
    self.slots = slots
    self.depth = max(1, depth)
  }

  /// How many more input bytes complete the current block.
  var wanted: Int { codec.blockSize - block.count }

  /// Takes input; returns the compressed blocks that are ready, in order.
  mutating func add(_ bytes: [UInt8]) async -> [[UInt8]] {
    if block.isEmpty { block = bytes } else { block += bytes }
    guard block.count >= codec.blockSize else { return [] }
    return await startBlock()
  }

  /// Compresses what is left (an empty input still makes one member) and returns every block not yet given.
  mutating func finish() async -> [[UInt8]] {
    var ready = [[UInt8]]()
    if !block.isEmpty || blocks == 0 { ready = await startBlock() }
    while !inFlight.isEmpty { ready.append(await takeOldest()) }
    return ready
  }

  /// Stops the blocks still compressing and gives their slots back.
  mutating func cancel() async {
    for task in inFlight { task.cancel() }
    for _ in inFlight { await slots.release() }
    inFlight = []
  }

  private mutating func startBlock() async -> [[UInt8]] {
    var ready = [[UInt8]]()
    while await !slots.tryAcquire() {
      if inFlight.isEmpty {
        await slots.acquire()
        break
      }
      ready.append(await takeOldest())
    }
    let (input, codec) = (block, codec)
    block = []
    blocks += 1
    inFlight.append(Task.detached { codec.compress(input) })
    if inFlight.count >= depth { ready.append(await takeOldest()) }
    return ready
  }

  /// The oldest block, compressed; its slot goes back.
  private mutating func takeOldest() async -> [UInt8] {
    let output = await inFlight.removeFirst().value
    await slots.release()
    return output
  }
}

/// Sends a blob's bytes to every upload at once, counting and (when they differ from the input) hashing
/// what is sent, and ends the uploads together.
struct FanOut {
  let uploads: [any BlobUpload]
  /// Hashes the output, for a blob whose bytes change on the way (compressed).
  private let hash: SHA256Hasher?
  private(set) var bytesSent: Int64

  init(_ uploads: [any BlobUpload], hashing: Bool, alreadySent: Int64 = 0) {
    self.uploads = uploads
    self.hash = hashing ? SHA256Hasher() : nil
    self.bytesSent = alreadySent
  }

  mutating func send(_ bytes: [UInt8]) async throws {
    guard !bytes.isEmpty else { return }
    hash?.update(bytes)
    bytesSent += Int64(bytes.count)
    for upload in uploads { try await upload.write(bytes) }
  }

  /// The digest of what was sent, when hashing.
  func sentDigest() -> Digest? { hash.map { Digest(sha256Bytes: $0.finalize()) } }

  /// Completes every upload under `digest`, in parallel.
  func finish(digest: Digest) async throws {
    let size = bytesSent
    try await withThrowingTaskGroup(of: Void.self) { group in
      for upload in uploads { group.addTask { try await upload.finish(digest: digest, size: size) } }
      try await group.waitForAll()
    }
  }

  /// Cancels every upload after `error`: bytes cut short by a broken transfer are kept to continue from,
  /// wrong bytes are thrown away.
  func cancel(after error: any Error) async {
    let keep = ![.invalidInput, .protocolViolation].contains(ErrorCategory(of: error))
    for upload in uploads { await upload.cancel(keepPartial: keep) }
  }
}
