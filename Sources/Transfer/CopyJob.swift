import Foundation
import OCI
import Streams

/// The state of one copy: its source and targets, and what the destinations already hold.
final class CopyJob: Sendable {
  let engine: CopyEngine
  let source: any ImageSource
  let targets: [CopyTarget]
  /// Compressed layers the destinations' current tags use, by uncompressed digest (a fresh machine's cache).
  let hints: HintStore

  /// Where this copy stands among the copies of its run (see `ImageDestination.putManifest`).
  let order: Int
  /// Whether the root manifest is hoist's own (see `RootDocument.isBuilt`).
  let built: Bool
  /// The manifests this copy has taken or is taking, so that a referrer listed twice (or a list that names
  /// the image itself) is copied once.
  let carried = DigestSet()
  /// The SOCI index of each image manifest this copy stored as an index's child.
  let sociIndexes = SociCompanions()

  init(engine: CopyEngine, source: any ImageSource, targets: [CopyTarget], built: Bool, order: Int) {
    self.engine = engine
    self.order = order
    self.built = built
    self.source = source
    self.targets = targets
    self.hints = HintStore { await Self.currentManifests(of: targets) }
  }

  var options: CopyOptions { engine.options }

  /// What each destination tag holds now, so layers it shares with this image need not be compressed.
  static func currentManifests(of targets: [CopyTarget]) async -> [Manifest] {
    var manifests = [Manifest]()
    for target in targets {
      for tag in target.tags {
        guard let current = try? await target.destination.currentManifest(tag: tag),
          MediaType.isManifest(current.mediaType),
          let manifest = try? Manifest.decode(current.bytes, what: "current manifest")
        else { continue }
        manifests.append(manifest)
      }
    }
    return manifests
  }

  /// How deep indexes may nest before the source is taken as hostile (real images nest at most twice).
  static let maximumIndexDepth = 8

  /// What a manifest is stored under in each target.
  enum Naming {
    /// The target's tags (by digest where it has none): the image the user named.
    case targetTags
    /// Its digest only: an index's child, a referrer.
    case digest
    /// A tag beside the image (a cosign tag), in each target's terms (`Reference.sibling`).
    case sibling(String)

    func references(in target: CopyTarget, digest: Digest) -> [ManifestReference] {
      switch self {
      case .targetTags: target.tags.isEmpty ? [.digest(digest)] : target.tags.map(ManifestReference.tag)
      case .digest: [.digest(digest)]
      case .sibling(let tag):
        target.tags.isEmpty
          ? [.tag(tag)] : Array(Set(target.tags.map { Reference.sibling(of: $0, tag: tag) })).sorted().map { .tag($0) }
      }
    }
  }

  /// Copies a manifest or index and what it names, then (when asked) its referrers; returns its descriptor
  /// as stored. The document goes byte for byte unless a layer changed (compressed), the user asked for
  /// another format, or a destination refuses it as it is; each of those is said in a notice. `depth`
  /// counts nested indexes, `level` referrers of referrers (0: the image itself).
  func copyNode(
    _ descriptor: Descriptor, bytes: Data, naming: Naming, depth: Int, level: Int
  ) async throws -> Descriptor {
    guard depth <= Self.maximumIndexDepth else {
      throw TransferError.tooDeep(source: source.description, digest: descriptor.digest)
    }
    guard let declared = DeclaredType(document: bytes) else {
      throw TransferError.unsupportedMediaType(source: source.description, mediaType: descriptor.mediaType)
    }
    let own = ManifestFormat(mediaType: declared.mediaType)
    let format = built ? options.builtFamily : options.format ?? own
    let rewrite =
      declared.isIndex
      ? try await copyIndex(descriptor, bytes: bytes, format: format, depth: depth, level: level)
      : try await copyImage(descriptor, bytes: bytes, format: format)
    let mediaType = rewrite?.mediaType ?? declared.mediaType
    var data = rewrite?.data ?? bytes
    // What to tell the user about a changed digest, once the new one is known.
    var notice: ((Digest) -> String)?
    if let rewrite, let conversion = rewrite.conversion, !built {
      notice = {
        "\(conversion) \(descriptor.digest) converted to \(format.name) as requested: now \($0)\(rewrite.lost)"
      }
    }
    if rewrite == nil, !declared.isExplicit,
      let strict = targets.first(where: { $0.destination.requiresManifestMediaType })
    {
      let reason = "\(strict.destination) refuses manifests without a mediaType field"
      guard !options.keepDigests else {
        throw TransferError.digestMustBeKept(
          destination: strict.destination.description, digest: descriptor.digest, reason: reason)
      }
      data = DeclaredType.addingField(mediaType, to: bytes)
      notice = { "\(reason): added it to \(descriptor.digest), which becomes \($0)" }
    }
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(data))
    if let notice { engine.progress(.notice(notice(digest))) }
    var result = descriptor
    result.mediaType = mediaType
    result.digest = digest
    result.size = Int64(data.count)
    guard let soci = rewrite?.soci else {
      try await putEverywhere(data, as: result, naming: naming)
      return try await carryReferrers(result, from: descriptor, level: level)
    }
    // SOCI v2: the image names its SOCI index, and an image index holds both; as an index's child, the
    // parent lists the SOCI index beside it, else a new image index does and takes the tags.
    try await putEverywhere(data, as: result, naming: .digest)
    var said =
      "manifest \(descriptor.digest) names its SOCI index \(soci.index.digest), as SOCI v2 requires: now \(digest)"
    if case .digest = naming {
      await sociIndexes.set(soci, for: digest)
    } else {
      let entries = [
        SociIndex.imageEntry(result, annotations: soci.annotations, platform: soci.platform),
        SociIndex.indexEntry(soci.index, image: digest, platform: soci.platform),
      ]
      let indexData = Index(mediaType: MediaType.ociIndex, manifests: entries).encoded()
      result = Descriptor(mediaType: MediaType.ociIndex, describing: indexData)
      try await putEverywhere(indexData, as: result, naming: naming)
      said += "; the image index \(result.digest) holds both"
    }
    engine.progress(.notice(said))
    return try await carryReferrers(result, from: descriptor, level: level)
  }

  /// Stores a document in every target under the references `naming` gives, checking the digest each
  /// stored it under.
  func putEverywhere(_ data: Data, as descriptor: Descriptor, naming: Naming) async throws {
    for target in targets {
      for reference in naming.references(in: target, digest: descriptor.digest) {
        let stored = try await target.destination.putManifest(
          data, mediaType: descriptor.mediaType, reference: reference, order: order)
        guard stored == descriptor.digest else {
          throw TransferError.manifestDigestMismatch(
            destination: target.destination.description, expected: descriptor.digest, actual: stored)
        }
        let separator = if case .digest = reference { "@" } else { ":" }
        engine.progress(.manifestStored("\(target.destination)\(separator)\(reference)", digest: descriptor.digest))
      }
    }
  }

  /// Copies the referrers of a document just stored as `result` (or says why they stay behind); returns
  /// `result`.
  private func carryReferrers(_ result: Descriptor, from descriptor: Descriptor, level: Int) async throws -> Descriptor
  {
    let digest = result.digest
    if digest != descriptor.digest, options.referrers?.implied == true {
      try await noteReferrersLeftOut(of: descriptor.digest, level: level, why: "its digest changed to \(digest)")
    } else if options.referrers == nil, let why = options.referrersLeftOutBecause {
      try await noteReferrersLeftOut(of: descriptor.digest, level: level, why: why)
    } else {
      try await copyReferrers(of: descriptor.digest, level: level + 1)
    }
    return result
  }

  /// A manifest or index whose bytes had to change: its type and bytes as they go, and for a conversion
  /// the user asked for, which kind of document it was and what Docker schema 2 had no field for.
  struct Rewrite {
    var mediaType: String
    var data: Data
    var conversion: String?
    var dropped: [String]
    /// The SOCI index the image now names (`--soci`).
    var soci: SociBinding?

    /// The dropped fields, as the conversion notice ends.
    var lost: String {
      dropped.isEmpty ? "" : " (dropped, as Docker schema 2 has no field for them: \(dropped.joined(separator: ", ")))"
    }
  }

  /// Copies an index's children; returns the index rewritten where a child changed or a conversion was asked
  /// for, nil when its bytes go as they are.
  private func copyIndex(
    _ descriptor: Descriptor, bytes: Data, format: ManifestFormat, depth: Int, level: Int
  ) async throws -> Rewrite? {
    let index = try Index.decode(bytes, what: "\(source): index \(descriptor.digest)")
    var (out, dropped) = (index, [String]())
    if ManifestFormat(mediaType: index.mediaType) != format { (out, dropped) = index.converted(to: format) }
    // --soci builds each image's SOCI index anew: the ones the source lists stay behind.
    if options.soci != nil { out.manifests.removeAll(where: SociIndex.isIndexEntry) }
    var companions = [Descriptor]()
    for (i, child) in out.manifests.enumerated() {
      let childBytes = try await source.document(child)
      let stored = try await copyNode(child, bytes: childBytes, naming: .digest, depth: depth + 1, level: level)
      if let soci = await sociIndexes[stored.digest] {
        out.manifests[i].annotations = soci.annotations
        companions.append(SociIndex.indexEntry(soci.index, image: stored.digest, platform: child.platform))
      }
      guard stored.digest != child.digest else { continue }
      out.manifests[i].mediaType = stored.mediaType
      out.manifests[i].digest = stored.digest
      out.manifests[i].size = stored.size
    }
    if !companions.isEmpty {
      if out.mediaType != MediaType.ociIndex { out = out.converted(to: .oci).index }
      out.manifests += companions
    }
    guard out != index else { return nil }
    let mediaType = out.mediaType ?? format.indexType
    out.mediaType = mediaType
    let converted = ManifestFormat(mediaType: index.mediaType) != format
    return Rewrite(mediaType: mediaType, data: out.encoded(), conversion: converted ? "index" : nil, dropped: dropped)
  }

  /// Copies an image's layers and config; returns the manifest rewritten where a layer was compressed or a
  /// conversion was asked for, nil when its bytes go as they are.
  private func copyImage(_ descriptor: Descriptor, bytes: Data, format: ManifestFormat) async throws -> Rewrite? {
    let manifest = try Manifest.decode(bytes, what: "\(source): manifest \(descriptor.digest)")
    let converting = ManifestFormat(mediaType: manifest.mediaType) != format
    var (out, dropped) = (manifest, [String]())
    if converting { (out, dropped) = try manifest.converted(to: format) }
    let configData = try await source.document(manifest.config)
    // A config that decodes is a JSON object; only one that does not needs its shape checked.
    let config = try? ImageConfig.decode(configData, what: "config")
    if config == nil {
      try ImageConfig.checkShape(
        configData, mediaType: manifest.config.mediaType, what: "\(source): config \(manifest.config.digest)")
    }
    if let diffIDs = config?.rootfs.diffIDs {
      await hints.learn(diffIDs: diffIDs, configDigest: manifest.config.digest)
    }
    out.layers = try await copyLayers(out.layers, format: format)
    try await copySmallBlob(out.config, configData, inSource: true)
    let soci = try await bindSociIndex(&out, of: descriptor, config: configData)
    guard out != manifest else { return nil }
    let mediaType = out.mediaType ?? format.manifestType
    out.mediaType = mediaType
    return Rewrite(
      mediaType: mediaType, data: out.encoded(), conversion: converting ? "manifest" : nil, dropped: dropped,
      soci: soci)
  }
}
