/// The two manifest families a registry accepts, and how media types map between them.
public enum ManifestFormat: String, Sendable, CaseIterable {
  case oci, docker

  /// The family a manifest or index media type belongs to (OCI when unknown).
  public init(mediaType: String?) {
    self = (mediaType == MediaType.dockerManifest || mediaType == MediaType.dockerManifestList) ? .docker : .oci
  }

  /// The family's name in messages.
  public var name: String { self == .docker ? "Docker schema 2" : "OCI" }

  public var manifestType: String { self == .oci ? MediaType.ociManifest : MediaType.dockerManifest }
  public var indexType: String { self == .oci ? MediaType.ociIndex : MediaType.dockerManifestList }
  public var configType: String { self == .oci ? MediaType.ociConfig : MediaType.dockerConfig }
  public var gzipLayerType: String { self == .oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip }

  /// A config media type in this family; artifacts' own config types are kept.
  public func config(_ type: String) -> String {
    type == MediaType.ociConfig || type == MediaType.dockerConfig ? configType : type
  }

  /// Whether this family has a media type for layers of `type`: Docker schema 2 has none for zstd. The one
  /// place that says so.
  public func canDescribe(layerType type: String) -> Bool { self == .oci || type != MediaType.ociLayerZstd }

  /// A layer media type in this family; throws for one the family cannot describe (zstd in Docker schema 2).
  public func layer(_ type: String, digest: Digest) throws(OCIError) -> String {
    guard canDescribe(layerType: type) else {
      throw .unconvertible(
        "layer \(digest) is zstd (\(type)), which Docker schema 2 cannot describe; push it with --format oci")
    }
    switch type {
    case MediaType.ociLayerGzip, MediaType.dockerLayerGzip: return gzipLayerType
    case MediaType.ociLayer, MediaType.dockerLayerUncompressed:
      return self == .oci ? MediaType.ociLayer : MediaType.dockerLayerUncompressed
    case MediaType.ociLayerNondistributableGzip, MediaType.dockerForeignLayerGzip:
      return self == .oci ? MediaType.ociLayerNondistributableGzip : MediaType.dockerForeignLayerGzip
    default: return type
    }
  }
}
