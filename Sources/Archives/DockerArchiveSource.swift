import Foundation
import OCI
import Streams

/// A `docker save` tarball in any of its variants, read as an image source.
///
/// Where the archive carries OCI manifests with compressed layers (the containerd image store),
/// the image is given as it is, digests unchanged. Otherwise (Docker 24 and older, Docker 25+ with
/// uncompressed layers, skopeo) a Docker schema 2 manifest is built from `manifest.json` and the
/// config, with the layers described uncompressed by their diffIDs for the engine to compress.
public struct DockerArchiveSource: ImageSource {
  let files: TarFiles
  let resolved: DockerArchiveResolver.Resolved
  /// The referrers a docker archive that is also an OCI layout lists in `index.json` (as hoist writes them).
  let catalog: LayoutReferrers

  /// Reads `manifest.json` and the chosen image's config up front; layers are read only when opened.
  init(archive: TarArchive, image selector: String?) throws {
    self.files = TarFiles(archive: archive)
    self.resolved = try DockerArchiveResolver(files: files, selector: selector).resolve()
    self.catalog = LayoutReferrers(files: files)
  }

  public func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer] {
    try catalog.referrers(of: subject)
  }

  public var description: String { files.path }

  public func root() async throws -> RootDocument { resolved.root }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    if let data = resolved.documents[descriptor.digest] {
      try check(data, against: descriptor, path: files.path)
      return data
    }
    return try files.verifiedDocument(descriptor)
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await openBlob(descriptor, from: 0)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    let name = resolved.members[descriptor.digest] ?? LayoutPath.blob(descriptor.digest)
    guard try files.exists(name) else {
      throw ArchiveError.invalid(path: files.path, reason: "layer \(descriptor.digest) (\(name)) is not in the archive")
    }
    return try files.open(name, from: offset)
  }
}
