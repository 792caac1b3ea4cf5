/// The media types hoist reads and writes, and what they say about a blob.
public enum MediaType {
  public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
  public static let ociIndex = "application/vnd.oci.image.index.v1+json"
  public static let ociConfig = "application/vnd.oci.image.config.v1+json"
  public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
  public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
  public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
  public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

  public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
  public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
  public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
  public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
  public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
  /// Not a registry type: how a layer read from a `docker save` tarball is described before compression.
  public static let dockerLayerUncompressed = "application/vnd.docker.image.rootfs.diff.tar"

  /// Every manifest type, for `Accept` headers, so that no registry converts what it serves.
  public static let allManifests = [ociIndex, ociManifest, dockerManifestList, dockerManifest]

  /// Whether the type names an index or a manifest list.
  public static func isIndex(_ type: String?) -> Bool {
    type == ociIndex || type == dockerManifestList
  }

  /// Whether the type names a single-image manifest.
  public static func isManifest(_ type: String?) -> Bool {
    type == ociManifest || type == dockerManifest
  }

  /// Whether a layer of this type is a gzip-compressed tar.
  public static func isGzipLayer(_ type: String) -> Bool {
    type.hasSuffix(".tar+gzip") || type.hasSuffix(".tar.gzip")
  }

  /// Whether a layer of this type is a plain, uncompressed tar.
  public static func isUncompressedLayer(_ type: String) -> Bool {
    type == ociLayer || type == dockerLayerUncompressed
      || type == "application/vnd.oci.image.layer.nondistributable.v1.tar"
  }
}
