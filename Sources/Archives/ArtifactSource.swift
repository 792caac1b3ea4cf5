import Foundation
import OCI
import Streams

/// An OCI 1.1 artifact made of local files and referring to an image (`hoist attach`), as a source the
/// engine copies: its manifest has the given `artifactType`, the empty config, one layer per file (titled
/// with the file's name, as oras does) and the image as `subject`.
public struct ArtifactSource: ImageSource {
  /// A file to attach and the media type its layer gets.
  public struct File: Sendable {
    public var path: String
    public var mediaType: String
    public init(path: String, mediaType: String) {
      self.path = path
      self.mediaType = mediaType
    }
  }

  /// The empty config OCI 1.1 artifacts carry: the two bytes `{}`.
  public static let emptyConfig = Descriptor(
    mediaType: "application/vnd.oci.empty.v1+json",
    digest: Digest(sha256Bytes: SHA256Hasher.hash(Data("{}".utf8))), size: 2)

  let paths: [Digest: String]
  let rootDocument: RootDocument

  public var description: String { "the artifact of \(paths.values.sorted().joined(separator: ", "))" }

  /// Hashes the files and builds the manifest.
  public static func make(
    files: [File], artifactType: String, subject: Descriptor, annotations: [String: String]
  ) throws -> ArtifactSource {
    var paths = [Digest: String]()
    var layers = [Descriptor]()
    for file in files {
      let (digest, size) = try hash(file.path)
      paths[digest] = file.path
      let title = URL(fileURLWithPath: file.path).lastPathComponent
      layers.append(
        Descriptor(
          mediaType: file.mediaType, digest: digest, size: size,
          annotations: ["org.opencontainers.image.title": title]))
    }
    var config = emptyConfig
    config.data = "e30="
    var manifest = Manifest(
      mediaType: MediaType.ociManifest, config: config, layers: layers,
      annotations: annotations.isEmpty ? nil : annotations)
    manifest.artifactType = artifactType
    manifest.subject = Descriptor(mediaType: subject.mediaType, digest: subject.digest, size: subject.size)
    let bytes = manifest.encoded()
    let descriptor = Descriptor(mediaType: MediaType.ociManifest, describing: bytes)
    return ArtifactSource(paths: paths, rootDocument: RootDocument(descriptor: descriptor, bytes: bytes))
  }

  private static func hash(_ path: String) throws -> (Digest, Int64) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ArchiveError.missing(path: path)
    }
    guard !isDirectory.boolValue else {
      throw ArchiveError.invalid(path: path, reason: "is a folder; attach files (tar a folder first)")
    }
    let (hash, size) = try SHA256Hasher.hash(FileRangeReader(path: path))
    return (Digest(sha256Bytes: hash), size)
  }

  public func root() async throws -> RootDocument { rootDocument }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    if descriptor.digest == Self.emptyConfig.digest { return Data("{}".utf8) }
    let reader = try await openBlob(descriptor)
    return Data(try await reader.read(maxLength: maximumDocumentSize))
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await openBlob(descriptor, from: 0)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    guard let path = paths[descriptor.digest] else {
      throw ArchiveError.invalid(path: description, reason: "no file for blob \(descriptor.digest)")
    }
    return SyncBlobReader(try FileRangeReader(path: path, offset: offset))
  }
}
