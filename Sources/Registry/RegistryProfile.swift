/// What a registry does differently from the distribution spec. Whoever knows the registry hands it in
/// (`ECRAccess.profile` for Amazon ECR); the client itself assumes only the spec.
public struct RegistryProfile: Sendable {
  /// Whether the registry's `Range` answers say truly how much of an upload it holds, so a failed chunk can
  /// continue in the same session (ECR's stay at the end of the first chunk).
  public var reportsUploadOffsets: Bool
  /// Whether the registry refuses manifests and indexes without a top-level `mediaType` (ECR does, with
  /// `UNSUPPORTED: Invalid JSON syntax`).
  public var requiresManifestMediaType: Bool
  /// The smallest chunk but the last the registry takes (ECR: 5 MiB, S3's smallest multipart part).
  public var minimumChunkSize: Int
  /// The statuses that accept a chunk: 202 in the spec; ECR answers 201.
  public var chunkAccepted: Set<UInt>
  /// Puts a failure to write to `repository` in the user's words where the registry's are cryptic (ECR: a
  /// missing repository, an immutable tag); nil when there is nothing to add.
  public var explain: (@Sendable (_ error: RegistryError, _ repository: String) async -> (any Error)?)?
  /// Makes sure a repository exists before the first push to it (ECR with `--create-repository`).
  public var prepareRepository: (@Sendable (_ repository: String) async throws -> Void)?

  public init(
    reportsUploadOffsets: Bool = true, requiresManifestMediaType: Bool = false, minimumChunkSize: Int = 0,
    chunkAccepted: Set<UInt> = [202],
    explain: (@Sendable (_ error: RegistryError, _ repository: String) async -> (any Error)?)? = nil,
    prepareRepository: (@Sendable (_ repository: String) async throws -> Void)? = nil
  ) {
    self.reportsUploadOffsets = reportsUploadOffsets
    self.requiresManifestMediaType = requiresManifestMediaType
    self.minimumChunkSize = minimumChunkSize
    self.chunkAccepted = chunkAccepted
    self.explain = explain
    self.prepareRepository = prepareRepository
  }

  /// A registry that follows the spec.
  public static let standard = RegistryProfile()
}
