import Foundation
import OCI
import Streams

/// skopeo's `dir:` format (also `podman save --format docker-dir`), read as an image source: a folder with
/// `manifest.json`, a `version` file, every blob (config included) in a file named by its hex digest, and for
/// an index, each platform's manifest in `<hex>.manifest.json`. Signature files are left behind, with a notice.
public struct DirSource: ImageSource {
  let files: DirectoryFiles

  init(path: String) { files = DirectoryFiles(path: path) }

  public var description: String { files.path }

  /// Whether `path` is a folder in this format: its `version` file names the directory transport.
  static func recognizes(_ path: String) -> Bool {
    let files = DirectoryFiles(path: path)
    guard (try? files.exists("manifest.json")) == true, let version = try? files.read("version", limit: 256) else {
      return false
    }
    return String(decoding: version, as: UTF8.self).hasPrefix("Directory Transport Version:")
  }

  public func root() async throws -> RootDocument {
    let bytes = try files.read("manifest.json", limit: maximumDocumentSize)
    guard let declared = DeclaredType(document: bytes) else {
      throw ArchiveError.invalid(path: files.path, reason: "manifest.json is neither an image manifest nor an index")
    }
    let descriptor = Descriptor(mediaType: declared.mediaType, describing: bytes)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: files.path)) ?? []
    let signatures = names.filter { $0.hasPrefix("signature-") || $0.contains(".signature-") }
    let notices =
      signatures.isEmpty
      ? [] : ["left out \(signatures.count) signature files (\(signatures.sorted().joined(separator: ", ")))"]
    return RootDocument(descriptor: descriptor, bytes: bytes, notices: notices)
  }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    let instance = "\(descriptor.digest.hex).manifest.json"
    return try files.verifiedDocument(descriptor, at: try files.exists(instance) ? instance : descriptor.digest.hex)
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await openBlob(descriptor, from: 0)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    try files.openBlob(descriptor.digest.hex, as: descriptor, from: offset)
  }
}
