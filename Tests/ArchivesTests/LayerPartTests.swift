import Foundation
import OCI
import Streams
import Testing

@testable import Archives

@Suite struct LayerPartTests {
  @Test func aLayerIsCutAtMemberEndsIntoPartsOfTheLeastSize() {
    let mebibyte: Int64 = 1 << 20
    let ends = (1...100).map { GzipMemberEnd(compressed: Int64($0) * 1000, plain: Int64($0) * mebibyte) }
    let parts = LayerPart.split(ends, size: 100 * mebibyte, minimum: 32 * mebibyte)
    #expect(parts.map(\.plain) == [0..<32 * mebibyte, 32 * mebibyte..<64 * mebibyte, 64 * mebibyte..<100 * mebibyte])
    #expect(parts.map(\.compressed) == [0..<32_000, 32_000..<64_000, 64_000..<100_000])
    // One part, or ends that do not account for the whole layer (zstd, a trailer hoist did not read): whole.
    #expect(LayerPart.split(ends, size: 100 * mebibyte, minimum: 60 * mebibyte).isEmpty)
    #expect(LayerPart.split(ends, size: 101 * mebibyte, minimum: mebibyte).isEmpty)
    #expect(LayerPart.split([], size: 0, minimum: mebibyte).isEmpty)
  }

  /// A layer of many gzip members (as hoist compresses) is inflated once, into the archive, in parts, in
  /// parallel, where its members' headers and trailers put it: the archive holds exactly the plain layer.
  @Test func aLayerOfManyMembersIsInflatedOnceIntoADockerArchiveInParts() async throws {
    var generator = SystemRandomNumberGenerator()
    let words = ["layer ", "digest ", "registry ", "upload ", "manifest "]
    let plain = Array((0..<1_200_000).map { _ in words.randomElement(using: &generator)! }.joined().utf8)
    let codec = BlockGzip(level: 1, blockSize: 1 << 20)
    let compressed = stride(from: 0, to: plain.count, by: 1 << 20).flatMap {
      codec.compress(Array(plain[$0..<min($0 + (1 << 20), plain.count)]))
    }
    let (layer, written) = try await writeDockerArchive(plain: plain, compressed: compressed)
    #expect(layer?.predicted == true && (layer?.parts.count ?? 0) > 4)
    #expect(written == plain)
  }

  /// A prediction proved wrong when written (a gzip header in a stored block, after a size that fits) costs
  /// a second try from sizes found by inflating, and leaves nothing of the first in the archive.
  @Test func aWrongPredictionIsWrittenAgainFromInflatedSizes() async throws {
    var generator = SystemRandomNumberGenerator()
    var plain = (0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    plain.replaceSubrange(1_000_000..<1_000_014, with: [0x80, 0x84, 0x1e, 0, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
    let compressed = BlockGzip(level: 1, blockSize: 4 << 20).compress(plain)
    let (layer, written) = try await writeDockerArchive(plain: plain, compressed: compressed)
    #expect(layer?.predicted == false && layer?.size == Int64(plain.count))
    #expect(written == plain)
  }

  /// A blob labelled gzip that is the plain layer (its digest is the diffID, as a tool that reused a blob
  /// wrote it) goes into the archive as it is, labelled plain.
  @Test func aPlainLayerLabelledGzipIsWrittenAsItIs() async throws {
    let plain = Array(String(repeating: "plain tar ", count: 10_000).utf8)
    let (layer, written) = try await writeDockerArchive(plain: plain, compressed: plain)
    #expect(layer == nil && written == plain)
  }

  /// Writes a docker archive with uncompressed layers of an image of one layer; returns how the layer was
  /// inflated (nil: it was not) and what the archive holds for it, after checking it holds no blob but the
  /// image's three and its manifest names the layer plain.
  private func writeDockerArchive(plain: [UInt8], compressed: [UInt8]) async throws -> (InflatedLayer?, [UInt8]) {
    let folder = NSTemporaryDirectory() + "hoist-parts-\(UUID())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let diffID = Digest(sha256Bytes: SHA256Hasher.hash(plain))
    let config = Data(
      #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(diffID)"]}}"#.utf8)
    let configDescriptor = Descriptor(mediaType: MediaType.ociConfig, describing: config)
    let layer = Descriptor(mediaType: MediaType.ociLayerGzip, describing: Data(compressed))

    let destination = try LayoutDestination(
      path: folder + "/image.tar", format: .dockerArchive, uncompressedLayers: true)
    await destination.cutLayers(intoPartsOfAtLeast: 1 << 20)
    try await destination.prepare()
    try await destination.putBlob(config, descriptor: configDescriptor)
    let upload = try await destination.beginUpload(expected: layer, reopen: nil)
    try await upload.write(compressed)
    try await upload.finish(digest: layer.digest, size: layer.size)
    let manifest = Manifest(mediaType: MediaType.ociManifest, config: configDescriptor, layers: [layer])
    _ = try await destination.putManifest(
      manifest.encoded(), mediaType: MediaType.ociManifest, reference: .tag("t"), order: 0)
    try await destination.commit()

    let archive = try TarArchive(path: folder + "/image.tar")
    let blobs = archive.entries.values.filter { $0.name.hasPrefix("blobs/sha256/") && $0.kind == .file }
    #expect(blobs.count == 3)
    let index = try Index.decode(Data(archive.read("index.json", limit: 1 << 20)), what: "index.json")
    let written = try Manifest.decode(
      Data(archive.read("blobs/sha256/" + index.manifests[0].digest.hex, limit: 1 << 20)), what: "manifest")
    #expect(written.layers == [Descriptor(mediaType: MediaType.ociLayer, digest: diffID, size: Int64(plain.count))])
    return (await destination.inflated[diffID], try archive.read("blobs/sha256/" + diffID.hex, limit: plain.count + 1))
  }
}
