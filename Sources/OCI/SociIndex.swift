import Foundation

/// SOCI index manifest v2 (awslabs/soci-snapshotter, `docs/soci-index-manifest-v2.md`): how an image and the
/// zTOCs of its large layers are bound together so that the SOCI snapshotter (and Fargate) can start a
/// container before the image is pulled. The image manifest names its SOCI index in an annotation, so its
/// digest changes; an OCI index holds both, and that index is what the tags name.
public enum SociIndex {
  /// The SOCI index's `artifactType` in the image index, and its config's media type.
  public static let artifactType = "application/vnd.amazon.soci.index.v2+json"
  /// A zTOC blob's media type.
  public static let ztocMediaType = "application/octet-stream"
  /// On the image manifest: the digest of its SOCI index.
  public static let indexDigestAnnotation = "com.amazon.soci.index-digest"
  /// On the SOCI index's entry in the image index: the digest of the image manifest it belongs to.
  public static let imageManifestAnnotation = "com.amazon.soci.image-manifest-digest"
  /// On a zTOC's descriptor: the layer it describes and that layer's media type.
  public static let layerDigestAnnotation = "com.amazon.soci.image-layer-digest"
  public static let layerMediaTypeAnnotation = "com.amazon.soci.image-layer-mediaType"
  /// On a zTOC's descriptor: the span its checkpoints were taken at, in decimal bytes, as the soci tool writes it.
  public static let spanSizeAnnotation = "com.amazon.soci.span-size"
  /// On the SOCI index: the tool that built it.
  public static let buildToolAnnotation = "com.amazon.soci.build-tool-identifier"
  /// The SOCI index's config: the empty JSON object.
  public static let configData = Data("{}".utf8)
  /// Its digest is the SHA-256 of `{}`, a constant.
  public static let config = Descriptor(
    mediaType: artifactType,
    digest: try! Digest(sha256Hex: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
    size: Int64(configData.count))

  /// The descriptor of a zTOC for `layer`, its checkpoints `spanSize` bytes apart.
  public static func ztocDescriptor(digest: Digest, size: Int64, layer: Descriptor, spanSize: Int) -> Descriptor {
    Descriptor(
      mediaType: ztocMediaType, digest: digest, size: size,
      annotations: [
        layerDigestAnnotation: layer.digest.description, layerMediaTypeAnnotation: layer.mediaType,
        spanSizeAnnotation: String(spanSize),
      ])
  }

  /// The SOCI index manifest over `ztocs` (in the image's layer order): an OCI manifest with no subject.
  public static func manifest(ztocs: [Descriptor], buildTool: String) -> Manifest {
    Manifest(
      mediaType: MediaType.ociManifest, config: config, layers: ztocs, annotations: [buildToolAnnotation: buildTool])
  }

  /// The image manifest as it goes with a SOCI index: OCI, the family of the SOCI index (as the soci tool
  /// converts it).
  public static func ociImage(_ image: Manifest) throws(OCIError) -> Manifest {
    image.mediaType == MediaType.ociManifest ? image : try image.converted(to: .oci).manifest
  }

  /// The image manifest annotated with its SOCI index's digest.
  public static func annotating(_ image: Manifest, index: Digest) -> Manifest {
    var out = image
    out.annotations = (out.annotations ?? [:]).merging([indexDigestAnnotation: index.description]) { _, new in new }
    return out
  }

  /// The image index entry of an image with a SOCI index: its own annotations on it, as the soci tool
  /// writes them.
  public static func imageEntry(_ image: Descriptor, annotations: [String: String]?, platform: Platform?) -> Descriptor
  {
    Descriptor(
      mediaType: MediaType.ociManifest, digest: image.digest, size: image.size, annotations: annotations,
      platform: platform)
  }

  /// The image index entry of a SOCI index, beside its image's (same platform, the image's digest on it).
  public static func indexEntry(_ index: Descriptor, image: Digest, platform: Platform?) -> Descriptor {
    var entry = Descriptor(
      mediaType: MediaType.ociManifest, digest: index.digest, size: index.size,
      annotations: [imageManifestAnnotation: image.description], platform: platform)
    entry.artifactType = artifactType
    return entry
  }

  /// Whether an index entry is a SOCI v2 index (an image of that platform is beside it).
  public static func isIndexEntry(_ entry: Descriptor) -> Bool { entry.artifactType == artifactType }
}

/// How `--soci` builds indexes: which layers get a zTOC and how far apart its checkpoints are.
public struct SociSettings: Sendable, Equatable {
  /// Layers (as stored, compressed) smaller than this get no zTOC; the soci tool's default is 10 MiB.
  public var minLayerSize: Int64 = 10 << 20
  /// The uncompressed bytes between checkpoints; the soci tool's default is 4 MiB.
  public var spanSize = 4 << 20
  /// Names hoist in the SOCI index's build-tool annotation and in each zTOC.
  public var buildTool = "hoist"

  public init() {}
}
