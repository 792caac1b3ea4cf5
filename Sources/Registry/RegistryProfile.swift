/// What a registry does differently from the distribution spec. Whoever knows the registry hands it in
/// (`ECRAccess.profile` for Amazon ECR); the client itself assumes only the spec.
public struct RegistryProfile: Sendable, Equatable {
  /// Whether the registry's `Range` answers say truly how much of an upload it holds, so a failed chunk can
  /// continue in the same session (ECR's stay at the end of the first chunk).
  public var reportsUploadOffsets: Bool
  /// Whether the registry refuses manifests and indexes without a top-level `mediaType` (ECR does, with
  /// `UNSUPPORTED: Invalid JSON syntax`).
  public var requiresManifestMediaType: Bool

  public init(reportsUploadOffsets: Bool = true, requiresManifestMediaType: Bool = false) {
    self.reportsUploadOffsets = reportsUploadOffsets
    self.requiresManifestMediaType = requiresManifestMediaType
  }

  /// A registry that follows the spec.
  public static let standard = RegistryProfile()
}
