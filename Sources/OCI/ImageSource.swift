import Foundation

/// A sequential reader of one blob's bytes.
public protocol BlobReader: Sendable {
  /// Reads up to `maxLength` bytes; an empty array means the end of the blob.
  func read(maxLength: Int) async throws -> [UInt8]
}

extension BlobReader {
  /// Reads and drops `count` bytes (fewer if the blob ends first).
  public func skip(_ count: Int64) async throws {
    var skipped: Int64 = 0
    while skipped < count {
      let chunk = try await read(maxLength: Int(min(1 << 20, count - skipped)))
      if chunk.isEmpty { return }
      skipped += Int64(chunk.count)
    }
  }
}

/// The manifest or index a copy starts from.
public struct RootDocument: Sendable {
  public var descriptor: Descriptor
  public var bytes: Data
  /// Things the user should know about how the source was read (skipped entries, chosen image).
  public var notices: [String]
  /// Whether hoist built this manifest itself (from a `docker save`'s `manifest.json`): its digest is no
  /// claim, its uncompressed layers are compressed, and its format follows the destination's wishes.
  public var isBuilt: Bool

  public init(descriptor: Descriptor, bytes: Data, notices: [String] = [], isBuilt: Bool = false) {
    self.descriptor = descriptor
    self.bytes = bytes
    self.notices = notices
    self.isBuilt = isBuilt
  }
}

/// A place that can give an image: a `docker save` tarball, an OCI layout, a registry.
///
/// A source serves content by descriptor. Where it builds the manifest itself (`RootDocument.isBuilt`),
/// layers it holds uncompressed are described with an uncompressed media type and their diffID as digest,
/// and the copy engine compresses them; everything else is copied byte for byte.
public protocol ImageSource: Sendable, CustomStringConvertible {
  /// The manifest or index to copy.
  func root() async throws -> RootDocument
  /// The bytes of a manifest, index or config the root names, checked against the descriptor.
  func document(_ descriptor: Descriptor) async throws -> Data
  /// Opens a blob for streaming; the caller checks size and digest as it reads.
  func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader
  /// Opens a blob from `offset` on, to continue an interrupted transfer.
  func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader
  /// The registry repository the blobs live in, so a destination in the same registry can mount them.
  var mountOrigin: MountOrigin? { get }
  /// The registry repository one blob lives in (a source made of several has several).
  func mountOrigin(of descriptor: Descriptor) -> MountOrigin?
  /// The manifests that refer to the manifest or index `subject`: those naming it as their `subject`, and
  /// cosign's tags beside it. `artifactType` lets a source that can filter do so; the caller filters anyway.
  func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer]
  /// This source with its requests drawing their tries from `budget` (a blob's, shared by every request
  /// that moves it); a source that sends no requests is itself.
  func drawing(on budget: RetryBudget) -> any ImageSource
}

/// A repository blobs can be mounted from.
public struct MountOrigin: Sendable, Hashable {
  public var registry: String
  public var repository: String

  public init(registry: String, repository: String) {
    self.registry = registry
    self.repository = repository
  }
}

extension ImageSource {
  /// Files have nothing to mount from.
  public var mountOrigin: MountOrigin? { nil }

  /// Every blob of most sources lives in the same place.
  public func mountOrigin(of descriptor: Descriptor) -> MountOrigin? { mountOrigin }

  /// Sources that cannot hold referrers (a `docker save` of Docker 24, skopeo's `dir:`) have none.
  public func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer] { [] }

  /// Files send no requests.
  public func drawing(on budget: RetryBudget) -> any ImageSource { self }

  /// Opens the blob and skips `offset` bytes; sources that can seek do better.
  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    let reader = try await openBlob(descriptor)
    try await reader.skip(offset)
    return reader
  }
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

/// Opens the blob being uploaded again, from an offset.
public typealias BlobReopener = @Sendable (Int64) async throws -> any BlobReader

/// An upload in progress of a blob whose digest is known only once all its bytes are written.
public protocol BlobUpload: Sendable {
  /// The bytes an earlier, interrupted upload of the same blob left, for the engine to hash before it
  /// continues from their end; nil when the upload starts from nothing.
  func storedPrefix() async throws -> (any BlobReader)?
  /// Sends bytes (buffered into chunks as the destination prefers).
  func write(_ bytes: [UInt8]) async throws
  /// Completes the upload under `digest`; the destination checks it.
  func finish(digest: Digest, size: Int64) async throws
  /// Abandons the upload; `keepPartial` asks a destination that can resume to keep what it has
  /// (the transfer broke off), false throws it away (the bytes were wrong).
  func cancel(keepPartial: Bool) async
}

extension BlobUpload {
  /// Most uploads cannot resume.
  public func storedPrefix() async throws -> (any BlobReader)? { nil }
}

/// One destination of a copy and the tags the image gets there.
public struct CopyTarget: Sendable {
  public var destination: any ImageDestination
  /// The tags to put the root manifest under; empty means by digest only.
  public var tags: [String]

  public init(destination: any ImageDestination, tags: [String]) {
    self.destination = destination
    self.tags = tags
  }
}

/// A place that can take an image: a registry repository, an OCI layout, an archive being written.
public protocol ImageDestination: Sendable, CustomStringConvertible {
  /// Whether the destination already has this blob.
  func blobExists(_ descriptor: Descriptor) async throws -> Bool
  /// Makes a blob another repository of the same registry holds available here without copying it;
  /// false when that cannot be done.
  func mountBlob(_ descriptor: Descriptor, from origin: MountOrigin) async throws -> Bool
  /// Stores a small blob whose digest is known (configs).
  func putBlob(_ bytes: Data, descriptor: Descriptor) async throws
  /// Starts a streamed upload; `expected` names the blob when its digest is known in advance, which lets a
  /// destination continue an upload an earlier run left unfinished, and `reopen` reads it again from an
  /// offset, which lets an upload send once more what a failed request lost.
  func beginUpload(expected: Descriptor?, reopen: BlobReopener?) async throws -> any BlobUpload
  /// Stores a manifest or index; returns the digest the destination reports for it. `order` is where the
  /// copy storing it stands among the copies of its run: a destination that lists what it took (a layout's
  /// `index.json`, a docker archive's `manifest.json`) lists images in the order they were given, not the
  /// order they finished.
  func putManifest(_ bytes: Data, mediaType: String, reference: ManifestReference, order: Int) async throws -> Digest
  /// The manifest currently under `tag`, if any: lets a push recognise an image the destination has.
  func currentManifest(tag: String) async throws -> (bytes: Data, mediaType: String)?
  /// Whether the destination refuses manifests and indexes without a top-level `mediaType` (ECR does).
  var requiresManifestMediaType: Bool { get }
  /// Where the destination is, as a place other repositories of its registry could mount blobs from; nil
  /// for files.
  var location: MountOrigin? { get }
  /// What makes two destinations the same place, so that the engine prepares and commits each once.
  var identity: AnyHashable { get }
  /// Gets ready to take images (a registry may create the repository, a file its staging folder): the
  /// destination's first side effect; the engine calls it once, before the first copy to the destination.
  func prepare() async throws
  /// Makes everything stored visible at once (a file destination renames its output into place); the
  /// engine calls it once, after the last copy of a run.
  func commit() async throws
  /// Tidies what a failed run leaves: keeps what a later run can reuse (partial blobs), removes the rest
  /// (an empty staging folder); the engine calls it once, when a copy of the run fails.
  func abandon() async
  /// A failure of a copy put in the words of what the destination knows (ECR: a missing repository);
  /// nil when it has nothing to add.
  func explain(_ error: any Error) async -> (any Error)?
  /// This destination with its requests drawing their tries from `budget` (a blob's, shared by every
  /// request that moves it); one that sends no requests is itself.
  func drawing(on budget: RetryBudget) -> any ImageDestination
}

extension ImageDestination where Self: AnyObject {
  /// An object destination is its own place.
  public nonisolated var identity: AnyHashable { AnyHashable(ObjectIdentifier(self)) }
}

extension ImageDestination {
  /// Most destinations need no preparing.
  public func prepare() async throws {}

  /// Registries store as they go: nothing to commit, nothing to throw away.
  public func commit() async throws {}
  public func abandon() async {}

  /// Most destinations have nothing to add to a failure.
  public func explain(_ error: any Error) async -> (any Error)? { nil }

  /// Most destinations take any valid document.
  public var requiresManifestMediaType: Bool { false }

  /// Files are no place to mount from.
  public var location: MountOrigin? { nil }

  /// Most destinations cannot mount.
  public func mountBlob(_ descriptor: Descriptor, from origin: MountOrigin) async throws -> Bool { false }

  /// Files send no requests.
  public func drawing(on budget: RetryBudget) -> any ImageDestination { self }
}
