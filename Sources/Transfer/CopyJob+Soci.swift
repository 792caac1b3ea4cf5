import Foundation
import OCI
import Streams

/// `--soci`: a zTOC for each large gzip layer, built in the pass that moves the layer (or, for a layer the
/// destinations already hold, in a pass that reads it without sending it); then the SOCI index over them,
/// which the image manifest names in an annotation (SOCI index manifest v2).
extension CopyJob {
  /// A builder for the zTOC of a layer about to stream; nil when it will get none. A layer hoist compresses
  /// is indexed by its gzip members (one per span, `BlockGzip` with the span as block size); a gzip layer
  /// copied as it is, by inflating it alongside.
  private func ztocBuilder(for layer: Descriptor, compress: Bool) -> ZtocBuilder? {
    guard let soci = options.soci, layer.size >= soci.minLayerSize else { return nil }
    if compress {
      guard case .gzip(let codec) = options.compression else { return nil }
      return ZtocBuilder(membersOf: codec.blockSize)
    }
    return MediaType.isGzipLayer(layer.mediaType) ? ZtocBuilder(gzipSpan: soci.spanSize) : nil
  }

  /// Streams a layer to `targets` (none: only to index it), drawing on `budget`, and keeps the zTOC built
  /// on the way.
  func streamIndexing(
    _ layer: Descriptor, compress: Bool, to targets: [CopyTarget], budget: RetryBudget
  ) async throws -> (Digest, Int64) {
    let indexing = ztocBuilder(for: layer, compress: compress)
    let (digest, size) = try await stream(layer, compress: compress, to: targets, indexing: indexing, budget: budget)
    if let indexing, let soci = options.soci, size >= soci.minLayerSize {
      switch indexing.finish(buildTool: soci.buildTool) {
      case .success(let ztoc): await engine.ztocs.keep(Data(ztoc.encoded()), for: digest)
      case .failure(let refusal): engine.progress(.notice("layer \(digest) gets no zTOC: \(refusal)"))
      }
    }
    return (digest, size)
  }

  /// After a layer is placed: a large gzip layer the destinations held already is read (not sent) to index
  /// it; a large layer SOCI cannot read (zstd, uncompressed) is named in a notice.
  func ensureZtoc(of layer: Descriptor, stored: Descriptor, compress: Bool) async throws {
    guard let soci = options.soci, stored.size >= soci.minLayerSize, await engine.ztocs.ztoc(for: stored.digest) == nil
    else {
      return
    }
    guard MediaType.isGzipLayer(stored.mediaType) else {
      return engine.progress(
        .notice("layer \(stored.digest) is \(stored.mediaType); SOCI reads gzip layers only, so it gets no zTOC"))
    }
    engine.progress(.notice("reading layer \(stored.digest) to build its zTOC: the destination holds it already"))
    let (digest, _) = try await retrying(layer.digest) { budget in
      try await streamIndexing(layer, compress: compress, to: [], budget: budget)
    }
    if digest != stored.digest {
      engine.progress(
        .notice("layer \(stored.digest) is not what hoist compresses it to now (\(digest)), so it gets no zTOC"))
    }
  }

  /// With `--soci`, once the image's layers are placed: stores its SOCI index and makes `image` the manifest
  /// that goes with it (OCI, naming the index); returns what binds the two, nil when the image gets none.
  func bindSociIndex(_ image: inout Manifest, of descriptor: Descriptor, config: Data) async throws -> SociBinding? {
    guard options.soci != nil else { return nil }
    let oci = try SociIndex.ociImage(image)
    guard let index = try await writeSociIndex(for: oci, of: descriptor.digest) else { return nil }
    image = SociIndex.annotating(oci, index: index.digest)
    let platform = descriptor.platform ?? (try? ImageConfig.decode(config, what: "config"))?.platform
    return SociBinding(index: index, annotations: image.annotations, platform: platform)
  }

  /// Stores the zTOCs of `image`'s layers (OCI, as it will go), the SOCI index's config and the SOCI index
  /// in every target; returns the SOCI index's descriptor, or nil (with a notice) when no layer has a zTOC.
  private func writeSociIndex(for image: Manifest, of manifest: Digest) async throws -> Descriptor? {
    guard let soci = options.soci else { return nil }
    var ztocs = [Descriptor]()
    for layer in image.layers {
      let named = layer.digest.description
      guard !ztocs.contains(where: { $0.annotations?[SociIndex.layerDigestAnnotation] == named }),
        let blob = await engine.ztocs.ztoc(for: layer.digest)
      else { continue }
      let ztoc = SociIndex.ztocDescriptor(
        digest: blob.digest, size: Int64(blob.data.count), layer: layer, spanSize: soci.spanSize)
      try await copySmallBlob(ztoc, blob.data, inSource: false)
      ztocs.append(ztoc)
    }
    guard !ztocs.isEmpty else {
      engine.progress(
        .notice("manifest \(manifest) has no gzip layer of \(soci.minLayerSize) bytes or more: no SOCI index for it"))
      return nil
    }
    try await copySmallBlob(SociIndex.config, SociIndex.configData, inSource: false)
    let data = SociIndex.manifest(ztocs: ztocs, buildTool: soci.buildTool).encoded()
    let index = Descriptor(mediaType: MediaType.ociManifest, describing: data)
    try await putEverywhere(data, as: index, naming: .digest)
    return index
  }
}

/// The zTOCs of a run, by the digest of the layer blob each describes: those it built, and those the
/// blob-info cache kept from earlier runs with the same settings. Each is hashed once and looked for on disk
/// once, however many images list its layer.
actor ZtocShelf {
  /// A zTOC's bytes and their digest.
  struct Blob: Sendable {
    var data: Data
    var digest: Digest

    init(_ data: Data) { (self.data, digest) = (data, Digest(sha256Bytes: SHA256Hasher.hash(data))) }
  }

  private let cache: BlobInfoCache
  private let settings: String
  /// nil: looked for, and neither built nor kept.
  private var known = [Digest: Blob?]()

  init(cache: BlobInfoCache, settings: SociSettings?) {
    self.cache = cache
    self.settings = settings.map { "\(Ztoc.version)-\($0.spanSize)-\($0.buildTool)" } ?? ""
  }

  func keep(_ ztoc: Data, for layer: Digest) async {
    known[layer] = Blob(ztoc)
    await cache.keepZtoc(ztoc, for: layer, settings: settings)
  }

  func ztoc(for layer: Digest) async -> Blob? {
    if let looked = known[layer] { return looked }
    let kept = await cache.ztoc(for: layer, settings: settings).map(Blob.init)
    known[layer] = .some(kept)
    return kept
  }
}

/// An image manifest and the SOCI index it names: the index, the image's annotations (which its image index
/// entry carries) and its platform (which both entries carry).
struct SociBinding: Sendable {
  var index: Descriptor
  var annotations: [String: String]?
  var platform: Platform?
}

/// The SOCI binding of each image manifest stored by digest in a copy (an index's child), which the index
/// lists beside it.
actor SociCompanions {
  private var bindings = [Digest: SociBinding]()

  func set(_ binding: SociBinding, for image: Digest) { bindings[image] = binding }

  subscript(image: Digest) -> SociBinding? { bindings[image] }
}
