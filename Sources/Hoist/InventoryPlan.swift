import Archives
import Foundation
import OCI
import Registry

/// What `hoist inventory` does, as a value: lists the blobs a registry's repositories (under a prefix)
/// hold through their tags, for a delta bundle to leave out (`pull --since`), on a side where the bundles
/// themselves are not kept.
public struct InventoryPlan: Sendable {
  /// The registry, and the repositories under `prefix` (all when empty).
  public var registry: String
  public var prefix: String

  /// `HOST` or `HOST/PREFIX`.
  public init(location: String) {
    let parts = location.split(separator: "/", maxSplits: 1).map(String.init)
    registry = Session.registryHost(parts[0])
    prefix = parts.count > 1 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "/")) : ""
  }

  /// The blobs every tag of every repository under the prefix names (indexes followed), each once.
  public func run(in session: Session) async throws -> DeltaBase.Inventory {
    var blobs = [Digest: Int64]()
    let client = try session.client(for: registry)
    let repositories = try await session.repositories(of: registry).map(\.name).filter {
      prefix.isEmpty || $0 == prefix || $0.hasPrefix(prefix + "/")
    }
    for repository in repositories {
      for tag in try await client.tags(repository: repository) where !Referrer.isReferrerTag(tag) {
        try await collect(repository: repository, reference: tag, client: client, into: &blobs)
      }
    }
    return DeltaBase.Inventory(
      blobs: blobs.map { DeltaRecord.Blob(digest: $0.key, size: $0.value) }.sorted {
        $0.digest.description < $1.digest.description
      })
  }

  private func collect(
    repository: String, reference: String, client: RegistryClient, into blobs: inout [Digest: Int64], depth: Int = 0
  ) async throws {
    guard depth < 4, let (bytes, _) = try await client.manifest(repository: repository, reference: reference) else {
      return
    }
    guard let declared = DeclaredType(document: bytes) else { return }
    if declared.isIndex {
      for child in try Index.decode(bytes, what: reference).manifests where blobs[child.digest] == nil {
        blobs[child.digest] = child.size
        try await collect(
          repository: repository, reference: child.digest.description, client: client, into: &blobs,
          depth: depth + 1)
      }
    } else {
      let manifest = try Manifest.decode(bytes, what: reference)
      for blob in [manifest.config] + manifest.layers { blobs[blob.digest] = blob.size }
    }
  }
}
