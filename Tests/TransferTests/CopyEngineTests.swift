import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

/// An image held in memory, with layers given uncompressed as a docker archive gives them.
struct MemorySource: ImageSource {
  var blobs: [Digest: Data]
  var rootDescriptor: Descriptor
  var built = true

  var description: String { "memory" }

  init(layers: [Data], corruptLayer: Int? = nil) {
    var blobs = [Digest: Data]()
    var descriptors = [Descriptor]()
    for (i, layer) in layers.enumerated() {
      let digest = Digest(sha256Bytes: SHA256Hasher.hash(Array(layer)))
      descriptors.append(
        Descriptor(mediaType: MediaType.dockerLayerUncompressed, digest: digest, size: Int64(layer.count)))
      var stored = layer
      if i == corruptLayer { stored[0] ^= 0xff }
      blobs[digest] = stored
    }
    let configData = Data(
      #"{"rootfs":{"type":"layers","diff_ids":[\#(descriptors.map { "\"\($0.digest)\"" }.joined(separator: ","))]}}"#
        .utf8)
    let config = Descriptor(
      mediaType: MediaType.dockerConfig, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(configData))),
      size: Int64(configData.count))
    blobs[config.digest] = configData
    let manifest = Manifest(mediaType: MediaType.dockerManifest, config: config, layers: descriptors).encoded()
    rootDescriptor = Descriptor(
      mediaType: MediaType.dockerManifest, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(manifest))),
      size: Int64(manifest.count))
    blobs[rootDescriptor.digest] = manifest
    self.blobs = blobs
  }

  /// Documents and blobs as another tool wrote them, the root described as `rootType` says.
  init(root: Data, rootType: String, blobs contents: [Data]) {
    blobs = [:]
    for content in contents + [root] { blobs[Digest(sha256Bytes: SHA256Hasher.hash(Array(content)))] = content }
    rootDescriptor = Descriptor(
      mediaType: rootType, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(root))), size: Int64(root.count))
    built = false
  }

  func root() async throws -> RootDocument {
    RootDocument(descriptor: rootDescriptor, bytes: blobs[rootDescriptor.digest]!, isBuilt: built)
  }
  func document(_ descriptor: Descriptor) async throws -> Data { blobs[descriptor.digest]! }
  func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    MemoryReader(data: blobs[descriptor.digest]!)
  }
}

actor MemoryReader: BlobReader {
  var data: Data
  init(data: Data) { self.data = data }
  func read(maxLength: Int) async throws -> [UInt8] {
    let chunk = data.prefix(maxLength)
    data = data.dropFirst(chunk.count)
    return Array(chunk)
  }
}

/// A destination that keeps what it receives, and counts uploads.
actor MemoryDestination: ImageDestination {
  nonisolated let requiresManifestMediaType: Bool
  var blobs = [Digest: Data]()
  var manifests = [String: Data]()
  var uploads = 0
  var cancelled = 0

  nonisolated var description: String { "memory-destination" }

  init(requiresManifestMediaType: Bool = false) { self.requiresManifestMediaType = requiresManifestMediaType }

  func blobExists(_ descriptor: Descriptor) async throws -> Bool { blobs[descriptor.digest] != nil }
  func putBlob(_ bytes: Data, descriptor: Descriptor) async throws { blobs[descriptor.digest] = bytes }
  func beginUpload(expected: Descriptor?, reopen: BlobReopener?) async throws -> any BlobUpload {
    uploads += 1
    return MemoryUpload(destination: self)
  }
  func store(_ data: Data, as digest: Digest) { blobs[digest] = data }
  func cancelOne() { cancelled += 1 }
  func putManifest(
    _ bytes: Data, mediaType: String, reference: ManifestReference, order: Int
  ) async throws -> Digest {
    manifests[reference.description] = bytes
    return Digest(sha256Bytes: SHA256Hasher.hash(Array(bytes)))
  }
  func currentManifest(tag: String) async throws -> (bytes: Data, mediaType: String)? { nil }
}

actor MemoryUpload: BlobUpload {
  let destination: MemoryDestination
  var data = Data()
  init(destination: MemoryDestination) { self.destination = destination }
  func write(_ bytes: [UInt8]) async throws { data.append(contentsOf: bytes) }
  func finish(digest: Digest, size: Int64) async throws {
    #expect(Digest(sha256Bytes: SHA256Hasher.hash(Array(data))) == digest)
    #expect(Int64(data.count) == size)
    await destination.store(data, as: digest)
  }
  func cancel(keepPartial: Bool) async { await destination.cancelOne() }
}

@Suite struct CopyEngineTests {
  let layers = [Data(repeating: 1, count: 300_000), Data("second".utf8), Data(repeating: 1, count: 300_000)]

  @Test func compressesOnceForEveryDestinationAndDedupes() async throws {
    let a = MemoryDestination()
    let b = MemoryDestination()
    let engine = CopyEngine(options: CopyOptions())
    let stored = try await engine.copy(
      from: MemorySource(layers: layers),
      to: [CopyTarget(destination: a, tags: ["1", "latest"]), CopyTarget(destination: b, tags: ["x"])])
    #expect(await a.uploads == 2)
    #expect(await b.uploads == 2)
    let manifest = try Manifest.decode(try #require(await a.manifests["1"]), what: "m")
    #expect(manifest.layers.map(\.mediaType) == Array(repeating: MediaType.dockerLayerGzip, count: 3))
    #expect(manifest.layers[0] == manifest.layers[2])
    #expect(await a.manifests["latest"] == (await b.manifests["x"]))
    #expect(stored.mediaType == MediaType.dockerManifest)
  }

  @Test func aSecondCopyWithTheCacheSendsNothing() async throws {
    let destination = MemoryDestination()
    let engine = CopyEngine(options: CopyOptions(), cache: BlobInfoCache(file: nil))
    let first = try await engine.copy(
      from: MemorySource(layers: layers), to: [CopyTarget(destination: destination, tags: ["1"])])
    let second = try await engine.copy(
      from: MemorySource(layers: layers), to: [CopyTarget(destination: destination, tags: ["2"])])
    #expect(await destination.uploads == 2)
    #expect(first.digest == second.digest)
  }

  @Test func aCorruptLayerIsRefusedAndItsUploadCancelled() async throws {
    let destination = MemoryDestination()
    var options = CopyOptions()
    options.concurrency = 1
    await #expect(throws: TransferError.self) {
      try await CopyEngine(options: options).copy(
        from: MemorySource(layers: layers, corruptLayer: 1), to: [CopyTarget(destination: destination, tags: ["1"])])
    }
    #expect(await destination.manifests.isEmpty)
    #expect(await destination.cancelled == 1)
  }

  @Test func convertsToOCI() async throws {
    let destination = MemoryDestination()
    var options = CopyOptions()
    options.format = .oci
    let stored = try await CopyEngine(options: options).copy(
      from: MemorySource(layers: layers), to: [CopyTarget(destination: destination, tags: ["1"])])
    #expect(stored.mediaType == MediaType.ociManifest)
    let manifest = try Manifest.decode(try #require(await destination.manifests["1"]), what: "m")
    #expect(manifest.config.mediaType == MediaType.ociConfig)
    #expect(manifest.layers.allSatisfy { $0.mediaType == MediaType.ociLayerGzip })
  }

  /// A Docker schema 2 manifest described as OCI (as go-containerregistry's layouts do), with a compressed
  /// layer, its config, and JSON written with spaces, as another tool might.
  func foreignImage(mediaTypeField: Bool = true) -> (source: MemorySource, manifest: Data) {
    let layer = Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    let config = Data(#"{"rootfs": {"type": "layers", "diff_ids": []}}"#.utf8)
    func describe(_ data: Data, _ type: String) -> String {
      #"{"mediaType": "\#(type)", "digest": "\#(Digest(sha256Bytes: SHA256Hasher.hash(Array(data))))", "size": \#(data.count)}"#
    }
    let field = mediaTypeField ? #""mediaType": "\#(MediaType.dockerManifest)", "# : ""
    let manifest = Data(
      #"{"schemaVersion": 2, \#(field)"config": \#(describe(config, MediaType.dockerConfig)), "layers": [\#(describe(layer, MediaType.dockerLayerGzip))]}"#
        .utf8)
    return (MemorySource(root: manifest, rootType: MediaType.ociManifest, blobs: [layer, config]), manifest)
  }

  @Test func anImageConfigThatIsNotAJSONObjectIsRefusedBeforeAnyManifest() async throws {
    let layer = Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    for (config, type) in [
      (Data("\u{0}\u{1} not json".utf8), MediaType.ociConfig), (Data("[]".utf8), MediaType.dockerConfig),
    ] {
      func describe(_ data: Data, _ type: String) -> Descriptor {
        Descriptor(
          mediaType: type, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(data))), size: Int64(data.count))
      }
      let manifest = Manifest(
        mediaType: MediaType.ociManifest, config: describe(config, type),
        layers: [describe(layer, MediaType.ociLayerGzip)]
      ).encoded()
      let source = MemorySource(root: manifest, rootType: MediaType.ociManifest, blobs: [layer, config])
      let destination = MemoryDestination()
      await #expect(throws: OCIError.self) {
        try await CopyEngine(options: CopyOptions()).copy(
          from: source, to: [CopyTarget(destination: destination, tags: ["1"])])
      }
      #expect(await destination.manifests.isEmpty)
    }
    // An artifact's config of its own type may hold anything.
    try ImageConfig.checkShape(Data("not json".utf8), mediaType: "application/vnd.example.config", what: "c")
  }

  @Test func aManifestFromAnotherToolKeepsItsBytesAndItsOwnType() async throws {
    let (source, manifest) = foreignImage()
    let destination = MemoryDestination()
    let stored = try await CopyEngine(options: CopyOptions()).copy(
      from: source, to: [CopyTarget(destination: destination, tags: ["1"])])
    #expect(await destination.manifests["1"] == manifest)
    #expect(stored.digest == source.rootDescriptor.digest)
    #expect(stored.mediaType == MediaType.dockerManifest)
  }

  @Test func aDestinationThatNeedsTheMediaTypeFieldGetsItWithANotice() async throws {
    let (source, manifest) = foreignImage(mediaTypeField: false)
    let destination = MemoryDestination(requiresManifestMediaType: true)
    let notices = Notices()
    let stored = try await CopyEngine(options: CopyOptions(), progress: notices.take).copy(
      from: source, to: [CopyTarget(destination: destination, tags: ["1"])])
    let sent = try #require(await destination.manifests["1"])
    #expect(sent == DeclaredType.addingField(MediaType.ociManifest, to: manifest))
    #expect(stored.digest != source.rootDescriptor.digest)
    #expect(
      notices.texts.contains { $0.contains("\(source.rootDescriptor.digest)") && $0.contains("\(stored.digest)") })

    var keep = CopyOptions()
    keep.keepDigests = true
    await #expect(throws: TransferError.self) {
      try await CopyEngine(options: keep).copy(
        from: source, to: [CopyTarget(destination: MemoryDestination(requiresManifestMediaType: true), tags: [])])
    }
  }

  @Test func anIndexAboveAChildThatGainedTheFieldGainsItToo() async throws {
    let (image, manifest) = foreignImage(mediaTypeField: false)
    let child = Digest(sha256Bytes: SHA256Hasher.hash(Array(manifest)))
    let index = Data(
      #"{"schemaVersion":2,"manifests":[{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(child)","size":\#(manifest.count)}]}"#
        .utf8)
    let source = MemorySource(root: index, rootType: MediaType.ociIndex, blobs: Array(image.blobs.values))
    let destination = MemoryDestination(requiresManifestMediaType: true)
    _ = try await CopyEngine(options: CopyOptions()).copy(
      from: source, to: [CopyTarget(destination: destination, tags: ["1"])])
    let sent = try Index.decode(try #require(await destination.manifests["1"]), what: "index")
    #expect(sent.mediaType == MediaType.ociIndex)
    #expect(sent.manifests[0].digest != child)
    #expect(await destination.manifests[sent.manifests[0].digest.description] != nil)
  }

  @Test func conversionOnRequestIsSaid() async throws {
    let (source, _) = foreignImage()
    let destination = MemoryDestination()
    var options = CopyOptions()
    options.format = .oci
    let notices = Notices()
    let stored = try await CopyEngine(options: options, progress: notices.take).copy(
      from: source, to: [CopyTarget(destination: destination, tags: ["1"])])
    let manifest = try Manifest.decode(try #require(await destination.manifests["1"]), what: "m")
    #expect(manifest.mediaType == MediaType.ociManifest && manifest.layers[0].mediaType == MediaType.ociLayerGzip)
    #expect(notices.texts.contains { $0.contains("converted to OCI") && $0.contains("\(stored.digest)") })
  }
}

/// Collects the notices a copy gives, and the images its events were labelled with.
final class Notices: @unchecked Sendable {
  private let lock = NSLock()
  private var collected = [String]()
  private var images = Set<String>()
  var texts: [String] { lock.withLock { collected } }
  var labels: Set<String> { lock.withLock { images } }
  func take(_ event: ProgressEvent) {
    switch event {
    case .notice(let text): lock.withLock { collected.append(text) }
    case .of(let image, let inner):
      lock.withLock { _ = images.insert(image) }
      take(inner)
    default: break
    }
  }
}
