import Foundation
import OCI
import Streams

/// A multi-platform index made of the images of several sources (`hoist index create`), as a source the
/// engine copies like any other: the index is its root, and every manifest, config and layer it names is
/// read from the source it came from. Each entry keeps its source's descriptor (platform, annotations); an
/// image without one gets the platform its config names.
public struct ComposedIndex: ImageSource {
  private(set) var sources: [any ImageSource]
  /// Which source serves each digest the index names, directly or through its manifests.
  let owners: [Digest: Int]
  /// The manifests and configs read to compose the index, so that the copy does not read them again.
  let documents: [Digest: Data]
  let rootDocument: RootDocument

  public var description: String { "the index of \(sources.map(\.description).joined(separator: ", "))" }

  public func drawing(on budget: RetryBudget) -> any ImageSource {
    var copy = self
    copy.sources = sources.map { $0.drawing(on: budget) }
    return copy
  }

  /// Reads each source's root (an index's entries are merged) and builds the index: OCI unless `format`
  /// says Docker (which every entry must then be). Two entries for one platform are an error naming both.
  /// A manifest hoist builds from a `docker save` makes the index built too, so its layers are compressed.
  public static func compose(
    _ sources: [any ImageSource], format: ManifestFormat = .oci, annotations: [String: String] = [:]
  ) async throws -> ComposedIndex {
    var owners = [Digest: Int]()
    var documents = [Digest: Data]()
    var built = false
    var entries = [Descriptor]()
    var from = [String: String]()
    for (position, source) in sources.enumerated() {
      let root = try await source.root()
      built = built || root.isBuilt
      var found = [Descriptor]()
      if DeclaredType(document: root.bytes)?.isIndex == true {
        found = try Index.decode(root.bytes, what: "\(source): index \(root.descriptor.digest)").manifests
        owners[root.descriptor.digest] = position
      } else {
        found = [root.descriptor]
      }
      for var entry in found {
        let bytes = entry.digest == root.descriptor.digest ? root.bytes : try await source.document(entry)
        owners[entry.digest] = position
        documents[entry.digest] = bytes
        if let declared = DeclaredType(document: bytes), !declared.isIndex {
          let manifest = try Manifest.decode(bytes, what: "\(source): manifest \(entry.digest)")
          for blob in [manifest.config] + manifest.layers { owners[blob.digest] = position }
          entry.mediaType = declared.mediaType
          if entry.platform == nil {
            let config = try await source.document(manifest.config)
            documents[manifest.config.digest] = config
            entry.platform = try ImageConfig.decode(config, what: "\(source): config \(manifest.config.digest)")
              .platform
          }
        }
        try check(entry, of: source, format: format)
        if let platform = entry.platform, platform.os != "unknown", !SociIndex.isIndexEntry(entry) {
          let key = "\(platform) \(platform.osVersion ?? "")"
          if let earlier = from[key] {
            throw ComposeError.duplicatePlatform(platform.description, first: earlier, second: source.description)
          }
          from[key] = source.description
        }
        entries.append(entry)
      }
    }
    let index = Index(
      mediaType: format.indexType, manifests: entries, annotations: annotations.isEmpty ? nil : annotations)
    let bytes = index.encoded()
    let descriptor = Descriptor(mediaType: format.indexType, describing: bytes)
    return ComposedIndex(
      sources: sources, owners: owners, documents: documents,
      rootDocument: RootDocument(descriptor: descriptor, bytes: bytes, isBuilt: built))
  }

  /// An entry fits the index: it names its platform, and a Docker manifest list holds Docker manifests only.
  private static func check(_ entry: Descriptor, of source: any ImageSource, format: ManifestFormat) throws {
    guard entry.platform != nil else {
      throw ComposeError.noPlatform(source: source.description, digest: entry.digest)
    }
    if format == .docker && entry.mediaType != MediaType.dockerManifest {
      throw ComposeError.notDocker(source: source.description, digest: entry.digest, mediaType: entry.mediaType)
    }
  }

  public func root() async throws -> RootDocument { rootDocument }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    if let read = documents[descriptor.digest] { return read }
    return try await owner(of: descriptor).document(descriptor)
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await owner(of: descriptor).openBlob(descriptor)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    try await owner(of: descriptor).openBlob(descriptor, from: offset)
  }

  public var mountOrigin: MountOrigin? { nil }

  public func mountOrigin(of descriptor: Descriptor) -> MountOrigin? {
    owners[descriptor.digest].flatMap { sources[$0].mountOrigin(of: descriptor) }
  }

  private func owner(of descriptor: Descriptor) throws -> any ImageSource {
    guard let position = owners[descriptor.digest] else {
      throw ComposeError.unknownBlob(index: description, digest: descriptor.digest)
    }
    return sources[position]
  }
}

/// Why an index cannot be made of the images given.
public enum ComposeError: CategorizedError, CustomStringConvertible {
  case duplicatePlatform(String, first: String, second: String)
  case noPlatform(source: String, digest: Digest)
  case notDocker(source: String, digest: Digest, mediaType: String)
  case unknownBlob(index: String, digest: Digest)

  public var description: String {
    switch self {
    case .duplicatePlatform(let platform, let first, let second):
      "\(first) and \(second) are both \(platform); an index holds one image per platform"
    case .noPlatform(let source, let digest):
      "\(source): manifest \(digest) names no platform, and its config names no os and architecture"
    case .notDocker(let source, let digest, let mediaType):
      "\(source): \(digest) is \(mediaType); a Docker manifest list holds Docker schema 2 manifests only "
        + "(make an OCI index, the default, instead)"
    case .unknownBlob(let index, let digest): "\(index) names no blob \(digest)"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .duplicatePlatform, .noPlatform, .notDocker: .invalidInput
    case .unknownBlob: .protocolViolation
    }
  }
}
