import Foundation
import OCI

/// An OCI image layout (image-layout.md), as a folder or a tar, read as an image source.
public struct OCILayoutSource: ImageSource {
  let files: any LayoutFiles
  let selector: String?
  let catalog: LayoutReferrers

  init(files: any LayoutFiles, image selector: String?) {
    self.files = files
    self.selector = selector
    self.catalog = LayoutReferrers(files: files)
  }

  public var description: String { files.path }

  /// Reads and checks `index.json`.
  func index() throws -> Index {
    guard try files.exists("index.json") else {
      throw ArchiveError.unrecognized(path: files.path, reason: "not an OCI layout: index.json is missing")
    }
    let layout = try? JSONDecoder().decode(LayoutVersion.self, from: files.read("oci-layout", limit: 4096))
    guard layout?.imageLayoutVersion == "1.0.0" else {
      throw ArchiveError.unrecognized(
        path: files.path, reason: "not an OCI layout: oci-layout is missing or not version 1.0.0")
    }
    return try Index.decode(files.read("index.json", limit: maximumDocumentSize), what: "\(files.path): index.json")
  }

  /// The entries of `index.json` that are images, not referrers stored beside them.
  func images() throws -> [Descriptor] {
    try index().manifests.filter { !(try catalog.isReferrer($0)) }
  }

  public func root() async throws -> RootDocument {
    let entries = try images()
    let chosen: Descriptor
    if let selector {
      let matching = entries.filter { ImageSelector(text: selector).matches(Self.names(of: $0)) }
      guard let first = matching.first else {
        throw ArchiveError.notFound(path: files.path, image: selector, candidates: entries.flatMap(Self.names))
      }
      chosen = first
    } else {
      guard let only = entries.first else {
        throw ArchiveError.invalid(path: files.path, reason: "index.json lists no images")
      }
      guard entries.count == 1 else {
        throw ArchiveError.ambiguous(
          path: files.path, candidates: entries.map { Self.names(of: $0).first ?? $0.digest.description })
      }
      chosen = only
    }
    guard MediaType.isIndex(chosen.mediaType) || MediaType.isManifest(chosen.mediaType) else {
      throw ArchiveError.invalid(
        path: files.path, reason: "index.json entry \(chosen.digest) has media type \(chosen.mediaType)")
    }
    let bytes = try files.verifiedDocument(chosen)
    let descriptor = Descriptor(mediaType: chosen.mediaType, digest: chosen.digest, size: chosen.size)
    return RootDocument(descriptor: descriptor, bytes: bytes)
  }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    try files.verifiedDocument(descriptor)
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await openBlob(descriptor, from: 0)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    try files.openBlob(LayoutPath.blob(descriptor.digest), as: descriptor, from: offset)
  }

  public func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer] {
    try catalog.referrers(of: subject)
  }

  /// The names an index entry goes by.
  static func names(of entry: Descriptor) -> [String] {
    [entry.annotations?[Annotation.containerdImageName], entry.refName].compactMap { $0 }
  }
}

/// Where things live in an OCI layout.
enum LayoutPath {
  static func blob(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.hex)" }
}

/// An OCI layout's `oci-layout` file.
private struct LayoutVersion: Decodable {
  var imageLayoutVersion: String?
}
