import Foundation
import OCI
import Streams

/// The structure of a bundle, checked after its blobs: what `index.json` and `manifest.json` name.
extension BundleCheck {
  /// Walks `index.json`: every image, index and referrer it lists, down to each config and layer.
  mutating func walkLayout() throws {
    guard let index = try? Index.decode(try files.read("index.json", limit: 4 << 20), what: "index.json") else {
      report.problems.append("index.json is not an OCI image index")
      return
    }
    var visited = Set<Digest>()
    var referrersOf = [Digest: Int]()
    var images = [(entry: Descriptor, platforms: [String])]()
    for entry in index.manifests {
      let name = entry.annotations?[Self.containerdName] ?? entry.refName
      guard holds(entry, "index.json entry \(name ?? entry.digest.description)") else { continue }
      let found = try visit(entry, what: name ?? entry.digest.description, visited: &visited)
      let cosign = name.flatMap { Referrer.parseTag(Reference.tag(ofName: $0) ?? $0) }
      if let subject = found.subject ?? cosign?.subject {
        referrersOf[subject, default: 0] += 1
        report.referrers += 1
      } else {
        images.append((entry, found.platforms))
      }
    }
    report.images += images.map {
      BundleReport.Image(
        name: $0.entry.annotations?[Self.containerdName] ?? $0.entry.refName, digest: $0.entry.digest,
        platforms: $0.platforms,
        referrers: referrersOf[$0.entry.digest] ?? 0)
    }
  }

  /// Checks a manifest or index and what it names; returns its platforms and, for a referrer, its subject.
  mutating func visit(
    _ descriptor: Descriptor, what: String, visited: inout Set<Digest>, depth: Int = 0
  ) throws -> (platforms: [String], subject: Digest?) {
    guard depth < 8, visited.insert(descriptor.digest).inserted else { return ([], nil) }
    let bytes = try document(descriptor)
    guard let declared = DeclaredType(document: bytes) else {
      report.problems.append("\(what): \(descriptor.digest) is neither a manifest nor an index")
      return ([], nil)
    }
    if declared.isIndex {
      guard let index = try? Index.decode(bytes, what: what) else {
        report.problems.append("\(what): index \(descriptor.digest) does not parse")
        return ([], nil)
      }
      var platforms = [String]()
      for child in index.manifests where holds(child, "\(what): index \(descriptor.digest)", mayBeLeftOut: true) {
        let found = try visit(child, what: what, visited: &visited, depth: depth + 1)
        platforms += child.platform.map { [$0.description] } ?? found.platforms
      }
      return (platforms, index.subject?.digest)
    }
    guard let manifest = try? Manifest.decode(bytes, what: what) else {
      report.problems.append("\(what): manifest \(descriptor.digest) does not parse")
      return ([], nil)
    }
    let place = "\(what): manifest \(descriptor.digest)"
    var platforms = [String]()
    let imageConfig = [MediaType.ociConfig, MediaType.dockerConfig].contains(manifest.config.mediaType)
    if holds(manifest.config, place), imageConfig,
      let config = try? ImageConfig.decode(try document(manifest.config), what: place)
    {
      platforms =
        config.os.flatMap { os in config.architecture.map { Self.platform(os, $0, config.variant) } }
        .map { [$0] } ?? []
    }
    // A layer that names where to fetch it (foreign, non-distributable) may be absent by design.
    for layer in manifest.layers where held[layer.digest] != nil || (layer.urls ?? []).isEmpty {
      _ = holds(layer, place)
    }
    return (platforms, manifest.subject?.digest)
  }

  /// The annotation Docker 25+ and containerd give an image's full name in `index.json`.
  static let containerdName = "io.containerd.image.name"

  /// `os/arch[/variant]`.
  static func platform(_ os: String, _ architecture: String, _ variant: String?) -> String {
    Platform(os: os, architecture: architecture, variant: variant).description
  }

  /// Walks `manifest.json`: each image's config and layers, and the layers held uncompressed against the
  /// config's diffIDs. Images `index.json` already listed are not listed again.
  mutating func walkDockerArchive() async throws {
    let listing = try files.read("manifest.json", limit: 4 << 20)
    guard let entries = try? JSONDecoder().decode([DockerArchiveResolver.Entry].self, from: listing) else {
      report.problems.append("manifest.json is not a docker save listing")
      return
    }
    for (position, entry) in entries.enumerated() {
      let name = entry.repoTags?.first
      let what = "image \(name ?? "number \(position + 1) of manifest.json")"
      guard try files.size(entry.config) != nil else {
        report.problems.append("\(what): its config \(entry.config) is not in the bundle")
        continue
      }
      guard let config = try? ImageConfig.decode(try files.read(entry.config, limit: 4 << 20), what: what) else {
        report.problems.append("\(what): its config \(entry.config) does not parse")
        continue
      }
      let diffIDs = config.rootfs.diffIDs
      if diffIDs.count != entry.layers.count {
        report.problems.append(
          "\(what): \(entry.layers.count) layers, where its config lists \(diffIDs.count) diffIDs")
      }
      for (number, (layer, diffID)) in zip(entry.layers, diffIDs).enumerated() {
        try checkLayer(layer, diffID: diffID, what: "\(what): layer \(number + 1) (\(layer))")
      }
      let platform = config.os.flatMap { os in config.architecture.map { Self.platform(os, $0, config.variant) } }
      if !report.images.contains(where: { $0.name != nil && entry.repoTags?.contains($0.name!) == true }) {
        report.images.append(
          BundleReport.Image(name: name, digest: nil, platforms: platform.map { [$0] } ?? [], referrers: 0))
      }
    }
  }

  /// Checks a docker archive layer file: there, and when held uncompressed, its digest is the diffID. A
  /// layer outside `blobs/` is read and hashed here (the only time).
  mutating func checkLayer(_ layer: String, diffID: Digest, what: String) throws {
    guard let size = try files.size(layer) else {
      report.problems.append("\(what) is not in the bundle")
      return
    }
    let magic = try files.byteReader(layer).read(maxLength: 4)
    guard Compression(magic: magic) == .none else { return }
    let claimed = layer.hasPrefix("blobs/sha256/") ? try? Digest("sha256:" + layer.dropFirst(13)) : nil
    let actual: Digest
    if let claimed, let blob = held[claimed] {
      actual = blob.actual
    } else {
      actual = try Self.hash(files, layer).0
      report.blobs += 1
      report.bytes += size
    }
    if actual != diffID {
      report.problems.append("\(what) hashes to \(actual); its config's diffID is \(diffID)")
    }
  }
}
