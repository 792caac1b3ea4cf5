import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

/// `--soci` in the engine: the SOCI v2 layout in a destination, zTOCs for layers sent and for layers the
/// destination held already, and the layers SOCI cannot read.
@Suite struct SociCopyTests {
  /// A tar of `size` bytes of text and a directory, written by libarchive.
  static func tarLayer(_ size: Int) throws -> Data {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("soci-\(UUID().uuidString).tar").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let writer = try TarWriter(path: path)
    try writer.addDirectory(name: "app/")
    try writer.add(name: "app/data", bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 / 5) })
    try writer.close()
    return try Data(contentsOf: URL(fileURLWithPath: path))
  }

  static func options(span: Int = 256 << 10, compression: LayerCompression? = nil) -> CopyOptions {
    var settings = SociSettings()
    (settings.minLayerSize, settings.spanSize) = (0, span)
    var options = CopyOptions()
    options.soci = settings
    options.compression = compression ?? .gzip(BlockGzip(level: 1, blockSize: span))
    return options
  }

  @Test func theTagNamesAnImageIndexHoldingTheImageAndItsSociIndex() async throws {
    let destination = MemoryDestination()
    let notices = Notices()
    let stored = try await CopyEngine(options: Self.options(), progress: notices.take).copy(
      from: MemorySource(layers: [try Self.tarLayer(1 << 20)]), to: [CopyTarget(destination: destination, tags: ["1"])])
    #expect(stored.mediaType == MediaType.ociIndex)
    let index = try Index.decode(try #require(await destination.manifests["1"]), what: "index")
    #expect(index.manifests.count == 2)
    let (imageEntry, sociEntry) = (index.manifests[0], index.manifests[1])
    #expect(sociEntry.artifactType == SociIndex.artifactType)
    #expect(sociEntry.annotations?[SociIndex.imageManifestAnnotation] == imageEntry.digest.description)
    #expect(imageEntry.platform == sociEntry.platform)
    let image = try Manifest.decode(
      try #require(await destination.manifests[imageEntry.digest.description]), what: "image")
    #expect(image.mediaType == MediaType.ociManifest)
    #expect(image.layers.map(\.mediaType) == [MediaType.ociLayerGzip])
    #expect(image.annotations?[SociIndex.indexDigestAnnotation] == sociEntry.digest.description)
    #expect(imageEntry.annotations == image.annotations)
    let soci = try Manifest.decode(
      try #require(await destination.manifests[sociEntry.digest.description]), what: "soci index")
    #expect(soci.config == SociIndex.config)
    #expect(soci.layers.count == 1)
    #expect(soci.layers[0].annotations?[SociIndex.layerDigestAnnotation] == image.layers[0].digest.description)
    let ztoc = try #require(await destination.blobs[soci.layers[0].digest])
    #expect(Int64(ztoc.count) == soci.layers[0].size)
    #expect(await destination.blobs[SociIndex.config.digest] == SociIndex.configData)
    #expect(notices.texts.contains { $0.contains("as SOCI v2 requires") && $0.contains("\(stored.digest)") })
  }

  @Test func aGzipLayerTheDestinationHoldsIsReadNotSentToIndexIt() async throws {
    // One gzip member of the whole tar, not span-sized ones: indexed by inflating it.
    let tar = Array(try Self.tarLayer(600_000))
    let layer = Data(BlockGzip(level: 6, blockSize: tar.count).compress(tar))
    let config = Data(#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
    func describe(_ data: Data, _ type: String) -> Descriptor {
      Descriptor(mediaType: type, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(data))), size: Int64(data.count))
    }
    let manifest = Manifest(
      mediaType: MediaType.ociManifest, config: describe(config, MediaType.ociConfig),
      layers: [describe(layer, MediaType.ociLayerGzip)]
    ).encoded()
    let destination = MemoryDestination()
    await destination.store(layer, as: describe(layer, "").digest)
    let stored = try await CopyEngine(options: Self.options()).copy(
      from: MemorySource(root: manifest, rootType: MediaType.ociManifest, blobs: [layer, config]),
      to: [CopyTarget(destination: destination, tags: ["1"])])
    #expect(await destination.uploads == 0)
    let index = try Index.decode(try #require(await destination.manifests["1"]), what: "index")
    #expect(stored.mediaType == MediaType.ociIndex)
    #expect(index.manifests.map(\.platform) == Array(repeating: Platform(os: "linux", architecture: "arm64"), count: 2))
    let soci = try Manifest.decode(
      try #require(await destination.manifests[index.manifests[1].digest.description]), what: "soci index")
    #expect(await destination.blobs[soci.layers[0].digest] != nil)
  }

  @Test func aLayerIndexedOnceIsNotReadAgain() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("soci-cache-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("blob-info.json")
    let source = MemorySource(layers: [try Self.tarLayer(1 << 20)])
    let destination = MemoryDestination()
    let firstCache = BlobInfoCache(file: file)
    let first = try await CopyEngine(options: Self.options(), cache: firstCache).copy(
      from: source, to: [CopyTarget(destination: destination, tags: ["1"])])
    await firstCache.save()
    // The layer is at the destination and its zTOC in the cache: a second run neither sends nor reads it.
    let second = try await CopyEngine(options: Self.options(), cache: BlobInfoCache(file: file)).copy(
      from: UnreadableLayers(base: source), to: [CopyTarget(destination: destination, tags: ["2"])])
    #expect(second.digest == first.digest)
  }

  @Test func withNoLayerSociCanReadTheImageGoesAsItIsWithANotice() async throws {
    let destination = MemoryDestination()
    let notices = Notices()
    let zstd = LayerCompression.zstd(BlockZstd(level: 3, blockSize: 1 << 20))
    let stored = try await CopyEngine(options: Self.options(compression: zstd), progress: notices.take).copy(
      from: MemorySource(layers: [try Self.tarLayer(300_000)]), to: [CopyTarget(destination: destination, tags: ["1"])])
    #expect(stored.mediaType == MediaType.ociManifest)
    #expect(notices.texts.contains { $0.contains("SOCI reads gzip layers only") })
    #expect(notices.texts.contains { $0.contains("no SOCI index for it") })
  }
}

/// A source whose layers cannot be read: a copy that needs none of their bytes still works.
struct UnreadableLayers: ImageSource {
  let base: MemorySource
  var description: String { base.description }
  func root() async throws -> RootDocument { try await base.root() }
  func document(_ descriptor: Descriptor) async throws -> Data { try await base.document(descriptor) }
  func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    throw TransferError.blobMismatch(source: description, digest: descriptor.digest, reason: "read")
  }
}
