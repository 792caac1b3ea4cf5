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

  /// A layer of many gzip members (as hoist compresses) is inflated into the archive in parts, in parallel:
  /// the archive holds exactly the plain layer its config names.
  @Test func aLayerOfManyMembersIsInflatedIntoADockerArchiveInParts() async throws {
    let folder = NSTemporaryDirectory() + "hoist-parts-\(UUID())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var generator = SystemRandomNumberGenerator()
    let words = ["layer ", "digest ", "registry ", "upload ", "manifest "]
    let plain = Array((0..<1_200_000).map { _ in words.randomElement(using: &generator)! }.joined().utf8)
    let codec = BlockGzip(level: 1, blockSize: 1 << 20)
    let compressed = stride(from: 0, to: plain.count, by: 1 << 20).flatMap {
      codec.compress(Array(plain[$0..<min($0 + (1 << 20), plain.count)]))
    }
    let diffID = Digest(sha256Bytes: SHA256Hasher.hash(plain))
    let config = Data(
      #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(diffID)"]}}"#.utf8)
    let configDescriptor = Descriptor(
      mediaType: MediaType.ociConfig, digest: Digest(sha256Bytes: SHA256Hasher.hash(config)), size: Int64(config.count))
    let layer = Descriptor(
      mediaType: MediaType.ociLayerGzip, digest: Digest(sha256Bytes: SHA256Hasher.hash(compressed)),
      size: Int64(compressed.count))

    let destination = try LayoutDestination(
      path: folder + "/image.tar", format: .dockerArchive, uncompressedLayers: true)
    await destination.cutLayers(intoPartsOfAtLeast: 1 << 20)
    try await destination.prepare()
    try await destination.putBlob(config, descriptor: configDescriptor)
    let upload = try await destination.beginUpload(expected: layer, reopen: nil)
    try await upload.write(compressed)
    try await upload.finish(digest: layer.digest, size: layer.size)
    let manifest = Manifest(mediaType: MediaType.ociManifest, config: configDescriptor, layers: [layer])
    _ = try await destination.putManifest(manifest.encoded(), mediaType: MediaType.ociManifest, reference: .tag("t"))
    try await destination.commit()

    let inflated = await destination.inflated
    #expect((inflated[diffID]?.parts.count ?? 0) > 4)
    let archive = try TarArchive(path: folder + "/image.tar")
    #expect(try archive.read("blobs/sha256/" + diffID.hex, limit: plain.count + 1) == plain)
  }
}
