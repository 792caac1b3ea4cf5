import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

/// An upload that keeps its bytes and what it was told at the end.
actor RecordingUpload: BlobUpload {
  var data = [UInt8]()
  var finished: (Digest, Int64)?
  var kept: Bool?
  func write(_ bytes: [UInt8]) async throws { data += bytes }
  func finish(digest: Digest, size: Int64) async throws { finished = (digest, size) }
  func cancel(keepPartial: Bool) async { kept = keepPartial }
}

@Suite struct BlobStagesTests {
  static func describe(_ data: Data) -> Descriptor {
    Descriptor(
      mediaType: MediaType.ociLayerGzip, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(data))),
      size: Int64(data.count))
  }

  static func readAll(_ descriptor: Descriptor, _ data: Data, prefix: Int = 0) async throws -> [UInt8] {
    var read = try await VerifiedRead(
      descriptor, source: "test", prefix: prefix > 0 ? MemoryReader(data: data.prefix(prefix)) : nil
    ) { MemoryReader(data: data.dropFirst(Int($0))) }
    var out = [UInt8]()
    while case let chunk = try await read.next(maxLength: 1000), !chunk.isEmpty { out += chunk }
    _ = try read.verify()
    return out
  }

  @Test func aReadIsCheckedAgainstItsDescriptor() async throws {
    let data = Data((0..<5000).map { UInt8($0 % 251) })
    let descriptor = Self.describe(data)
    #expect(try await Self.readAll(descriptor, data) == Array(data))
    #expect(try await Self.readAll(descriptor, data, prefix: 1234) == Array(data.dropFirst(1234)))
    var longer = descriptor
    longer.size -= 1
    await #expect(throws: TransferError.self) { _ = try await Self.readAll(longer, data) }
    var shorter = descriptor
    shorter.size += 1
    await #expect(throws: TransferError.self) { _ = try await Self.readAll(shorter, data) }
    var other = data
    other[0] ^= 1
    await #expect(throws: TransferError.self) { _ = try await Self.readAll(descriptor, other) }
  }

  @Test(arguments: [1, 2, 8])
  func compressedBlocksComeBackInOrder(depth: Int) async throws {
    let codec = LayerCompression.gzip(BlockGzip(level: 1, blockSize: 64 << 10))
    let input = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
    var stage = OrderedCompression(codec: codec, slots: Slots(count: 4), depth: depth)
    var out = [UInt8]()
    var rest = input[...]
    while !rest.isEmpty {
      let take = rest.prefix(min(stage.wanted, 10_000))
      rest = rest.dropFirst(take.count)
      for block in await stage.add(Array(take)) { out += block }
    }
    for block in await stage.finish() { out += block }
    let expected = stride(from: 0, to: input.count, by: codec.blockSize).flatMap {
      codec.compress(Array(input[$0..<min($0 + codec.blockSize, input.count)]))
    }
    #expect(out == expected)
  }

  @Test func anEmptyBlobStillCompressesToOneMember() async throws {
    let codec = LayerCompression.defaultGzip
    var stage = OrderedCompression(codec: codec, slots: Slots(count: 1), depth: 1)
    #expect(await stage.finish() == [codec.compress([])])
  }

  @Test func aFanOutSendsTheSameBytesEverywhereAndKeepsWhatABrokenTransferLeft() async throws {
    let uploads = [RecordingUpload(), RecordingUpload()]
    var fanOut = FanOut(uploads, hashing: true)
    try await fanOut.send([1, 2, 3])
    try await fanOut.send([4])
    let digest = try #require(fanOut.sentDigest())
    #expect(digest == Digest(sha256Bytes: SHA256Hasher.hash([1, 2, 3, 4])))
    try await fanOut.finish(digest: digest)
    for upload in uploads {
      #expect(await upload.data == [1, 2, 3, 4])
      #expect(await upload.finished?.1 == 4)
    }
    struct Passing: CategorizedError { var category: ErrorCategory { .transient } }
    await fanOut.cancel(after: Passing())
    #expect(await uploads[0].kept == true)
    await fanOut.cancel(after: TransferError.tooDeep(source: "s", digest: digest))
    #expect(await uploads[1].kept == false)
  }
}
