import Foundation

/// A sequential reader of one blob's bytes.
public protocol BlobReader: Sendable {
  /// Reads up to `maxLength` bytes; an empty array means the end of the blob.
  func read(maxLength: Int) async throws -> [UInt8]
}

/// The manifest or index a copy starts from.
public struct RootDocument: Sendable {
  public var descriptor: Descriptor
  public var bytes: Data
  /// Things the user should know about how the source was read (skipped entries, chosen image).
  public var notices: [String]

  public init(descriptor: Descriptor, bytes: Data, notices: [String] = []) {
    self.descriptor = descriptor
    self.bytes = bytes
    self.notices = notices
  }
}

/// A place that can give an image: a `docker save` tarball, an OCI layout, a registry.
///
/// A source serves content by descriptor. Layers it holds uncompressed are described with an
/// uncompressed media type and their diffID as digest; the copy engine compresses them.
public protocol ImageSource: Sendable, CustomStringConvertible {
  /// The manifest or index to copy.
  func root() async throws -> RootDocument
  /// The bytes of a manifest, index or config the root names, checked against the descriptor.
  func document(_ descriptor: Descriptor) async throws -> Data
  /// Opens a blob for streaming; the caller checks size and digest as it reads.
  func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader
}

/// Where a manifest goes: under a tag, or by digest only (index children).
public enum ManifestReference: Sendable, Hashable, CustomStringConvertible {
  case tag(String)
  case digest(Digest)

  public var description: String {
    switch self {
    case .tag(let tag): tag
    case .digest(let digest): digest.description
    }
  }
}

/// An upload in progress of a blob whose digest is known only once all its bytes are written.
public protocol BlobUpload: Sendable {
  /// Sends bytes (buffered into chunks as the destination prefers).
  func write(_ bytes: [UInt8]) async throws
  /// Completes the upload under `digest`; the destination checks it.
  func finish(digest: Digest, size: Int64) async throws
  /// Abandons the upload and frees what the destination held for it.
  func cancel() async
}

/// A place that can take an image: a registry repository, an OCI layout, an archive being written.
public protocol ImageDestination: Sendable, CustomStringConvertible {
  /// Whether the destination already has this blob.
  func blobExists(_ descriptor: Descriptor) async throws -> Bool
  /// Stores a small blob whose digest is known (configs).
  func putBlob(_ bytes: Data, descriptor: Descriptor) async throws
  /// Starts a streamed upload.
  func beginUpload() async throws -> any BlobUpload
  /// Stores a manifest or index; returns the digest the destination reports for it.
  func putManifest(_ bytes: Data, mediaType: String, reference: ManifestReference) async throws -> Digest
  /// The manifest currently under `tag`, if any: lets a push recognise an image the destination has.
  func currentManifest(tag: String) async throws -> (bytes: Data, mediaType: String)?
  /// Makes everything stored visible at once (a file destination renames its output into place); called
  /// by whoever ran the copies, once after the last.
  func commit() async throws
}

extension ImageDestination {
  /// Registries store as they go: nothing to commit.
  public func commit() async throws {}
}
