import Foundation
import OCI
import Streams

/// Works out which image a `docker save` tarball gives and how: its own OCI manifest when every layer
/// in it is present and compressed, else a Docker schema 2 manifest built from `manifest.json`.
struct DockerArchiveResolver {
  let files: TarFiles
  let selector: String?

  /// One entry of `manifest.json`.
  struct Entry: Decodable {
    var config: String
    var repoTags: [String]?
    var layers: [String]
    enum CodingKeys: String, CodingKey {
      case config = "Config"
      case repoTags = "RepoTags"
      case layers = "Layers"
    }

    /// `"RepoTags": null` (an untagged `docker save`) and `"Layers": null` read as empty.
    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      config = try c.decode(String.self, forKey: .config)
      repoTags = try c.decodeIfPresent([String].self, forKey: .repoTags)
      layers = try c.decodeIfPresent([String].self, forKey: .layers) ?? []
    }
  }

  /// What the source resolved: the manifest it gives and where each blob lives in the tar.
  struct Resolved: Sendable {
    var root: RootDocument
    var members: [Digest: String]
    var documents: [Digest: Data]
  }

  /// The entries of `manifest.json`.
  func entries() throws -> [Entry] {
    do {
      return try JSONDecoder().decode([Entry].self, from: files.read("manifest.json", limit: maximumDocumentSize))
    } catch is DecodingError {
      throw ArchiveError.invalid(path: files.path, reason: "manifest.json is not a valid docker save manifest")
    }
  }

  /// Every RepoTag in the archive.
  func names() throws -> [String] { try entries().flatMap { $0.repoTags ?? [] } }

  /// Reads `manifest.json`, picks the image and describes it.
  func resolve() throws -> Resolved {
    let entry = try select(from: entries())
    let configData = try files.read(entry.config, limit: maximumDocumentSize)
    let configDigest = Digest(sha256Bytes: SHA256Hasher.hash(configData))
    var notices = [String]()
    if let claimed = Self.claimedDigest(entry.config), claimed != configDigest {
      throw ArchiveError.blobMismatch(
        path: files.path, digest: claimed, reason: "config \(entry.config) hashes to \(configDigest)")
    }
    let configName = entry.config.split(separator: "/").last.map(String.init) ?? entry.config
    if Self.claimedDigest(entry.config) == nil, !configName.hasPrefix(configDigest.hex) {
      // Docker 24 and older name the config `<hex>.json` by convention; tools that edit archives keep the name.
      notices.append("config \(entry.config) is not named by its digest; pushing it as \(configDigest)")
    }
    let config = try ImageConfig.decode(configData, what: "\(files.path): config \(entry.config)")
    guard config.rootfs.diffIDs.count == entry.layers.count else {
      throw ArchiveError.invalid(
        path: files.path,
        reason: "config \(entry.config) lists \(config.rootfs.diffIDs.count) diffIDs for \(entry.layers.count) layers")
    }
    if let verbatim = try ociManifest(configDigest: configDigest, names: entry.repoTags ?? []) {
      return verbatim
    }
    var built = try synthesize(
      entry, configData: configData, configDigest: configDigest, diffIDs: config.rootfs.diffIDs)
    built.root.notices += notices
    return built
  }

  private func select(from entries: [Entry]) throws -> Entry {
    let names = entries.map { $0.repoTags?.first ?? $0.config }
    if let selector {
      guard let match = entries.first(where: { ImageSelector(text: selector).matches($0.repoTags ?? []) }) else {
        throw ArchiveError.notFound(
          path: files.path, image: selector, candidates: entries.flatMap { $0.repoTags ?? [] })
      }
      return match
    }
    guard let only = entries.first else {
      throw ArchiveError.invalid(path: files.path, reason: "manifest.json lists no images")
    }
    guard entries.count == 1 else { throw ArchiveError.ambiguous(path: files.path, candidates: names) }
    return only
  }

  /// Builds a Docker schema 2 manifest with the layers as they are stored in the tar.
  private func synthesize(_ entry: Entry, configData: Data, configDigest: Digest, diffIDs: [Digest]) throws -> Resolved
  {
    var members = [Digest: String]()
    var layers = [Descriptor]()
    for (path, diffID) in zip(entry.layers, diffIDs) {
      guard let member = try files.archive.resolve(path) else {
        throw ArchiveError.invalid(
          path: files.path, reason: "manifest.json names layer \(path), which is not in the archive")
      }
      let reader = try files.archive.open(member)
      let head = try reader.read(maxLength: 4)
      let descriptor: Descriptor
      switch Compression(magic: head) {
      case .none:
        descriptor = Descriptor(mediaType: MediaType.dockerLayerUncompressed, digest: diffID, size: member.size)
      case .gzip:
        let digest = try Self.claimedDigest(path) ?? hash(member)
        descriptor = Descriptor(mediaType: MediaType.dockerLayerGzip, digest: digest, size: member.size)
      case .zstd:
        let digest = try Self.claimedDigest(path) ?? hash(member)
        descriptor = Descriptor(mediaType: MediaType.ociLayerZstd, digest: digest, size: member.size)
      }
      members[descriptor.digest] = member.name
      layers.append(descriptor)
    }
    // An archive with layers Docker schema 2 cannot describe (zstd) is described in OCI terms.
    let format: ManifestFormat =
      layers.allSatisfy { ManifestFormat.docker.canDescribe(layerType: $0.mediaType) } ? .docker : .oci
    for i in layers.indices { layers[i].mediaType = try format.layer(layers[i].mediaType, digest: layers[i].digest) }
    let config = Descriptor(mediaType: format.configType, digest: configDigest, size: Int64(configData.count))
    let manifest = Manifest(mediaType: format.manifestType, config: config, layers: layers)
    let bytes = manifest.encoded()
    let descriptor = Descriptor(mediaType: format.manifestType, describing: bytes)
    return Resolved(
      root: RootDocument(descriptor: descriptor, bytes: bytes, isBuilt: true), members: members,
      documents: [configDigest: configData, descriptor.digest: bytes])
  }

  /// The archive's own OCI manifest for this config, when the archive has one and every layer in it
  /// is present and compressed, so the image can be pushed with its digests unchanged.
  private func ociManifest(configDigest: Digest, names: [String]) throws -> Resolved? {
    guard try files.exists("index.json") else { return nil }
    guard let index = try? Index.decode(files.read("index.json", limit: maximumDocumentSize), what: "index.json")
    else { return nil }
    var absent = [String]()
    var found: (descriptor: Descriptor, data: Data, manifest: Manifest)?
    // Images may share a config; the entry carrying the image's own name is the one that is meant.
    let named = index.manifests.filter { entry in
      names.contains { ImageSelector(text: $0).matches(OCILayoutSource.names(of: entry)) }
    }
    var level = named.isEmpty ? index.manifests : named
    for _ in 0..<8 where !level.isEmpty {
      var next = [Descriptor]()
      for descriptor in level {
        guard try files.exists(LayoutPath.blob(descriptor.digest)) else {
          absent.append(descriptor.platform?.description ?? descriptor.digest.short)
          continue
        }
        let data = try files.verifiedDocument(descriptor)
        if MediaType.isIndex(descriptor.mediaType) {
          next += try Index.decode(data, what: "\(files.path): index \(descriptor.digest)").manifests
        } else if MediaType.isManifest(descriptor.mediaType), found == nil {
          let manifest = try Manifest.decode(data, what: "\(files.path): manifest \(descriptor.digest)")
          if manifest.config.digest == configDigest { found = (descriptor, data, manifest) }
        }
      }
      level = next
    }
    guard let found else { return nil }
    for layer in found.manifest.layers {
      guard !MediaType.isUncompressedLayer(layer.mediaType),
        try files.size(LayoutPath.blob(layer.digest)) == layer.size
      else { return nil }
    }
    let notices =
      absent.isEmpty
      ? []
      : [
        "skipped \(absent.count) index entries whose manifests are not in the archive: \(absent.joined(separator: ", "))"
      ]
    let root = Descriptor(
      mediaType: found.descriptor.mediaType, digest: found.descriptor.digest, size: found.descriptor.size)
    return Resolved(
      root: RootDocument(descriptor: root, bytes: found.data, notices: notices), members: [:], documents: [:])
  }

  private func hash(_ member: TarEntry) throws -> Digest {
    Digest(sha256Bytes: try SHA256Hasher.hash(files.archive.open(member)).hash)
  }

  /// The digest a member's name claims: only `blobs/sha256/<hex>` (Docker 25+, OCI) is a claim; the
  /// `<hex>.json` and `<hex>.tar` names of older archives are a convention, which edited archives break.
  static func claimedDigest(_ path: String) -> Digest? {
    let parts = path.split(separator: "/")
    guard parts.count >= 3, parts[parts.count - 3] == "blobs", parts[parts.count - 2] == "sha256" else { return nil }
    return try? Digest(sha256Hex: String(parts[parts.count - 1]))
  }
}
