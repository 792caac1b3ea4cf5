import Foundation
import OCI
import Streams

/// An image, or the platforms of an index, with its config edited, annotations added and layers appended
/// (`hoist mutate`, `hoist append`), as a source the engine copies like any other. Only configs, manifests,
/// the index and appended layers are new; the other layers are read from the image as it was, so a
/// destination that has them (or can mount them) receives none of them.
public struct MutatedImage: ImageSource {
  /// A layer to put on top of each image: its blob (gzip) and how to read it.
  public struct NewLayer: Sendable {
    public var descriptor: Descriptor
    public var open: @Sendable (Int64) async throws -> any BlobReader
    public init(descriptor: Descriptor, open: @escaping @Sendable (Int64) async throws -> any BlobReader) {
      self.descriptor = descriptor
      self.open = open
    }
  }

  private(set) var base: any ImageSource
  /// The new documents, by digest.
  let documents: [Digest: Data]
  let layers: [NewLayer]
  let rootDocument: RootDocument

  public var description: String { base.description }

  public func drawing(on budget: RetryBudget) -> any ImageSource {
    var copy = self
    copy.base = base.drawing(on: budget)
    return copy
  }

  /// Edits `base`: each manifest's config by `edit`, `annotations` into each manifest and the index, and
  /// `layers` on top (whose diffIDs `edit.appendedLayers` adds to the config); in an index, only the entries
  /// for `platforms` (all when empty). Docker schema 2 has no annotations.
  public static func make(
    _ base: any ImageSource, edit: ConfigEdit, annotations: [String: String] = [:], layers: [NewLayer] = [],
    platforms: [Platform] = []
  ) async throws -> MutatedImage {
    var documents = [Digest: Data]()
    let root = try await base.root()
    guard let declared = DeclaredType(document: root.bytes) else {
      throw TransferError.unsupportedMediaType(source: base.description, mediaType: root.descriptor.mediaType)
    }
    var mutated: (descriptor: Descriptor, bytes: Data)
    if declared.isIndex {
      var index = try Index.decode(root.bytes, what: "\(base): index \(root.descriptor.digest)")
      var changed = 0
      // Attestation entries (BuildKit's, platform unknown/unknown) describe an image; they are no image to change.
      for (position, entry) in index.manifests.enumerated()
      where entry.platform?.os != "unknown" && Self.wanted(entry.platform, platforms) {
        let bytes = try await base.document(entry)
        guard DeclaredType(document: bytes)?.isIndex == false else { continue }
        let new = try await mutate(entry, bytes, base, edit, annotations, layers, &documents)
        index.manifests[position] = new.descriptor
        changed += 1
      }
      guard changed > 0 else {
        throw TransferError.nothingToMutate(
          source: base.description, platforms: platforms.map(\.description).joined(separator: ", "))
      }
      if !annotations.isEmpty { index.annotations = (index.annotations ?? [:]).merging(annotations) { _, new in new } }
      let bytes = index.encoded()
      mutated = (describe(bytes, root.descriptor), bytes)
      documents[mutated.descriptor.digest] = bytes
    } else {
      mutated = try await mutate(root.descriptor, root.bytes, base, edit, annotations, layers, &documents)
    }
    let rootDocument = RootDocument(
      descriptor: mutated.descriptor, bytes: mutated.bytes, notices: root.notices, isBuilt: root.isBuilt)
    return MutatedImage(base: base, documents: documents, layers: layers, rootDocument: rootDocument)
  }

  /// One manifest with its config edited, its annotations added and the new layers on top; the new config
  /// and manifest are kept in `documents`.
  private static func mutate(
    _ entry: Descriptor, _ bytes: Data, _ base: any ImageSource, _ edit: ConfigEdit, _ annotations: [String: String],
    _ layers: [NewLayer], _ documents: inout [Digest: Data]
  ) async throws -> (descriptor: Descriptor, bytes: Data) {
    var manifest = try Manifest.decode(bytes, what: "\(base): manifest \(entry.digest)")
    let docker = manifest.mediaType == MediaType.dockerManifest
    manifest.layers += layers.map { layer in
      var descriptor = layer.descriptor
      descriptor.mediaType = docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip
      return descriptor
    }
    if !annotations.isEmpty {
      guard manifest.mediaType != MediaType.dockerManifest else {
        throw TransferError.noAnnotations(source: base.description, digest: entry.digest)
      }
      manifest.annotations = (manifest.annotations ?? [:]).merging(annotations) { _, new in new }
    }
    if !edit.isEmpty {
      let config = try await base.document(manifest.config)
      let edited = try edit.apply(to: config, what: "\(base): config \(manifest.config.digest)")
      manifest.config = describe(edited, manifest.config)
      documents[manifest.config.digest] = edited
    }
    let encoded = manifest.encoded()
    let descriptor = describe(encoded, entry)
    documents[descriptor.digest] = encoded
    return (descriptor, encoded)
  }

  /// `old` with the digest and size of `bytes`.
  private static func describe(_ bytes: Data, _ old: Descriptor) -> Descriptor {
    var descriptor = old
    descriptor.digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
    descriptor.size = Int64(bytes.count)
    return descriptor
  }

  /// Whether an index entry is one of the platforms asked for (a platform without a variant matches any).
  static func wanted(_ platform: Platform?, _ platforms: [Platform]) -> Bool {
    guard !platforms.isEmpty else { return true }
    guard let platform else { return false }
    return platforms.contains { wanted in
      wanted.os == platform.os && wanted.architecture == platform.architecture
        && (wanted.variant == nil || wanted.variant == platform.variant)
    }
  }

  public func root() async throws -> RootDocument { rootDocument }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    if let new = documents[descriptor.digest] { return new }
    return try await base.document(descriptor)
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await openBlob(descriptor, from: 0)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    if let layer = layers.first(where: { $0.descriptor.digest == descriptor.digest }) {
      return try await layer.open(offset)
    }
    return try await base.openBlob(descriptor, from: offset)
  }

  public var mountOrigin: MountOrigin? { base.mountOrigin }

  public func mountOrigin(of descriptor: Descriptor) -> MountOrigin? {
    let new = documents[descriptor.digest] != nil || layers.contains { $0.descriptor.digest == descriptor.digest }
    return new ? nil : base.mountOrigin(of: descriptor)
  }
}
