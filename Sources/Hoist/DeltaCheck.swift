import Archives
import OCI
import Transfer

/// What pushing a delta bundle checks before anything is written: every blob the bundle left out and an
/// image of it names is at that image's destination, or is mounted there from a repository of the same
/// registry that holds it: where the base bundle's images went under the same `--registry`, then where
/// the blob-info cache saw it.
struct DeltaCheck {
  let record: DeltaRecord
  /// The push's `--registry` (or `HOIST_REGISTRY`), under which the base bundle's images were placed.
  var registryPrefix: String?
  var cache: BlobInfoCache

  /// The blobs an image names: its index's manifests, each manifest's config and layers.
  static func named(by source: any ImageSource) async throws -> Set<Digest> {
    let root = try await source.root()
    var named = Set<Digest>()
    var pending = [(root.descriptor, root.bytes)]
    while let (descriptor, bytes) = pending.popLast() {
      guard named.insert(descriptor.digest).inserted, let declared = DeclaredType(document: bytes) else { continue }
      if declared.isIndex {
        for child in try Index.decode(bytes, what: "\(source)").manifests where !named.contains(child.digest) {
          guard let document = try? await source.document(child) else { continue }
          pending.append((child, document))
        }
      } else {
        let manifest = try Manifest.decode(bytes, what: "\(source)")
        named.insert(manifest.config.digest)
        named.formUnion(manifest.layers.map(\.digest))
      }
    }
    return named
  }

  /// The left-out blobs of `source`'s image that a target lacks, as `DESTINATION: DIGEST (SIZE bytes)`.
  func missing(_ source: any ImageSource, at targets: [CopyTarget]) async throws -> [String] {
    let named = try await Self.named(by: source)
    let preferred = baseRepositories
    var missing = [String]()
    for blob in record.omitted where named.contains(blob.digest) {
      let descriptor = Descriptor(mediaType: "application/octet-stream", digest: blob.digest, size: blob.size)
      for target in targets where !(try await target.destination.blobExists(descriptor)) {
        let mounted = await target.destination.mount(
          descriptor, preferring: preferred, cache: cache, attempts: Self.mountAttempts)
        if mounted == nil { missing.append("\(target.destination): \(blob.digest) (\(blob.size) bytes)") }
      }
    }
    return missing
  }

  /// Where the base bundle's images went under `registryPrefix`: the places a left-out blob is mounted from
  /// first, before those the blob-info cache remembers.
  var baseRepositories: [MountOrigin] {
    guard let registryPrefix else { return [] }
    return (record.baseImages ?? []).compactMap { name in
      (try? Reference.placing(name, under: registryPrefix)).map {
        MountOrigin(registry: $0.registry, repository: $0.repository)
      }
    }
  }

  /// How many repositories a left-out blob is tried from: a base of more images than this is asked in part.
  static let mountAttempts = 16

  /// Checks every copy of a delta bundle; one error lists all that is missing.
  func check(_ copies: [ImageCopy], bundle: String) async throws {
    var missing = [String]()
    for copy in copies { missing += try await self.missing(try await copy.source(), at: copy.targets) }
    guard missing.isEmpty else { throw DeltaError(bundle: bundle, since: record.since, missing: missing) }
  }
}

/// A delta bundle pushed where the blobs it left out are not.
public struct DeltaError: CategorizedError, CustomStringConvertible {
  public var bundle: String
  public var since: [String]
  public var missing: [String]

  public var description: String {
    "\(bundle) is a delta (since \(since.joined(separator: ", "))) and leaves out \(missing.count) blob(s) its "
      + "destination lacks: \(missing.joined(separator: "; ")); push the bundle it was made against first, "
      + "or a full bundle. Nothing was pushed"
  }

  public var category: ErrorCategory { .notFound }
}
