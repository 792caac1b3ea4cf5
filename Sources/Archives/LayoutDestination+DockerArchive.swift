import Foundation
import OCI
import Streams

/// A docker archive: `docker load`'s metadata, layers inflated for old loaders, and the tar laid out once.
extension LayoutDestination {
  /// Writes the docker archive: `docker load`'s metadata, the index, then the tar. Uncompressed layers are
  /// laid out by their predicted sizes and inflated once; when a prediction proves wrong, everything is
  /// written again from sizes found by inflating.
  func writeDockerArchive(_ index: Index) async throws {
    let kept = superseded
    do {
      try await writeDockerArchive(index, predicting: uncompressedLayers)
    } catch is LayerMisprediction {
      superseded = kept
      inflated = [:]
      try await writeDockerArchive(index, predicting: false)
    }
  }

  private func writeDockerArchive(_ index: Index, predicting: Bool) async throws {
    var index = index
    let written = try await writeDockerMetadata(&index, predicting: predicting)
    do {
      try write(index.encoded(), to: staging + "/index.json")
      try await writeTar()
    } catch is LayerMisprediction {
      for file in written { try? FileManager.default.removeItem(atPath: file) }
      throw LayerMisprediction()
    }
  }

  /// `manifest.json` and `repositories` for `docker load`, one entry per named image; with
  /// `uncompressedLayers`, each image's layers are decompressed and its OCI manifest rewritten to match
  /// (`predicting`: by predicted sizes, `decompressLayers`). Returns the manifests it added to the blobs.
  func writeDockerMetadata(_ index: inout Index, predicting: Bool) async throws -> [String] {
    var added = [String]()
    var loadEntries = [[String: Any]]()
    var repositories = [String: [String: String]]()
    for (position, entry) in index.manifests.enumerated() {
      // Referrers and cosign's tags stay in the layout part, which docker load does not read.
      guard let name = entry.refName, !(Reference.tag(ofName: name).map(Referrer.isReferrerTag) ?? false) else {
        continue
      }
      guard MediaType.isManifest(entry.mediaType) else {
        throw ArchiveError.invalid(
          path: path, reason: "a docker archive holds one platform per image; write all platforms with --format oci")
      }
      var manifest = try Manifest.decode(Data(contentsOf: URL(fileURLWithPath: blobPath(entry.digest))), what: name)
      let config = try ImageConfig.decode(
        Data(contentsOf: URL(fileURLWithPath: blobPath(manifest.config.digest))), what: "config of \(name)")
      guard config.rootfs.diffIDs.count == manifest.layers.count else {
        throw ArchiveError.invalid(
          path: path,
          reason: "\(name): its config lists \(config.rootfs.diffIDs.count) layer(s), its manifest "
            + "\(manifest.layers.count); docker load would refuse it")
      }
      if uncompressedLayers {
        let compressed = manifest
        manifest = try await decompressLayers(of: manifest, config: config, name: name, predicting: predicting)
        superseded.insert(entry.digest)
        superseded.formUnion(Set(compressed.layers.map(\.digest)).subtracting(manifest.layers.map(\.digest)))
        let bytes = manifest.encoded()
        let digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
        if !FileManager.default.fileExists(atPath: blobPath(digest)) { added.append(blobPath(digest)) }
        try write(bytes, to: blobPath(digest))
        index.manifests[position].digest = digest
        index.manifests[position].size = Int64(bytes.count)
      }
      let layers = manifest.layers.map { LayoutPath.blob($0.digest) }
      loadEntries.append([
        "Config": LayoutPath.blob(manifest.config.digest), "RepoTags": [name], "Layers": layers,
      ])
      if let reference = try? Reference(parsing: name), let tag = reference.tag, let last = manifest.layers.last {
        let repository = name.hasPrefix(reference.registry + "/") ? reference.name : reference.repository
        repositories[repository, default: [:]][tag] = last.digest.hex
      }
    }
    try write(
      JSONSerialization.data(withJSONObject: loadEntries, options: [.sortedKeys, .withoutEscapingSlashes]),
      to: staging + "/manifest.json")
    try write(
      JSONSerialization.data(withJSONObject: repositories, options: [.sortedKeys, .withoutEscapingSlashes]),
      to: staging + "/repositories")
    return added
  }

  /// The plain size of each compressed layer, and the parts `writeTar` inflates it into the archive in.
  /// `predicting`, a gzip layer's are read from its members' headers and trailers (`GzipMemberPrediction`)
  /// and checked as it is written, so it is inflated once; otherwise (and for zstd) it is inflated here
  /// and checked against `config`'s diffID, then again into the archive. Layers go one per core.
  func decompressLayers(
    of manifest: Manifest, config: ImageConfig, name: String, predicting: Bool
  ) async throws -> Manifest {
    let plainType =
      manifest.mediaType == MediaType.dockerManifest ? MediaType.dockerLayerUncompressed : MediaType.ociLayer
    var out = manifest
    let work = manifest.layers.enumerated().filter { i, layer in
      guard !MediaType.isUncompressedLayer(layer.mediaType), i < config.rootfs.diffIDs.count else { return false }
      // A blob whose digest is the diffID is the plain layer whatever its type says (a tool's mislabel).
      guard layer.digest != config.rootfs.diffIDs[i] else {
        out.layers[i].mediaType = plainType
        return false
      }
      return true
    }
    let (staging, path, minimum) = (staging, path, layerPartMinimum)
    var pending = work[...]
    try await runBounded(width: ProcessInfo.processInfo.activeProcessorCount) {
      () -> (@Sendable () async throws -> (Int, InflatedLayer))? in
      guard let (i, layer) = pending.popFirst() else { return nil }
      let diffID = config.rootfs.diffIDs[i]
      let compressed = staging + "/blobs/sha256/" + layer.digest.hex
      return {
        let prediction = predicting ? try GzipMemberPrediction.predict(path: compressed) : nil
        let (size, memberEnds) =
          try prediction ?? Self.inflate(compressed, archive: path, layer: layer, expecting: diffID) { _ in }
        let parts = LayerPart.split(memberEnds, size: size, minimum: minimum)
        return (
          i,
          InflatedLayer(
            compressed: compressed, layer: layer, diffID: diffID, size: size, parts: parts,
            predicted: prediction != nil)
        )
      }
    } finished: { (i, plain) in
      out.layers[i] = Descriptor(mediaType: plainType, digest: plain.diffID, size: plain.size)
      inflated[plain.diffID] = plain
    }
    return out
  }

  /// Decompresses one layer (gzip or zstd, as its first bytes say), or the bytes of it in `range`, handing
  /// the plain bytes to `sink` in order; when `diffID` is given, checks them against it and, for gzip,
  /// notes where each member ended. Returns the plain size and those ends.
  static func inflate(
    _ compressed: String, range: Range<Int64>? = nil, archive: String, layer: Descriptor, expecting diffID: Digest?,
    into sink: ([UInt8]) throws -> Void
  ) throws -> (size: Int64, memberEnds: [GzipMemberEnd]) {
    let reader = try FileRangeReader(
      path: compressed, offset: range?.lowerBound ?? 0, length: range.map { $0.upperBound - $0.lowerBound })
    var chunk = try reader.read(maxLength: IOSize.preferred)
    guard let decompressor = Compression(magic: Array(chunk.prefix(4))).decompressor() else {
      throw ArchiveError.invalid(
        path: archive,
        reason: "layer \(layer.digest) is \(layer.mediaType), which hoist cannot decompress; pull without "
          + "--uncompressed-layers to keep it as it is")
    }
    let gzip = decompressor as? GzipDecompressor
    gzip?.notesMemberEnds = diffID != nil
    let hasher = diffID.map { _ in SHA256Hasher() }
    var size: Int64 = 0
    func take(_ plain: [UInt8]) throws {
      hasher?.update(plain)
      size += Int64(plain.count)
      try sink(plain)
    }
    do {
      while !chunk.isEmpty {
        try chunk.withUnsafeBytes { try decompressor.decompress($0, into: take) }
        chunk = try reader.read(maxLength: IOSize.preferred)
      }
      try decompressor.finish(into: take)
    } catch let error as StreamError {
      throw ArchiveError.invalid(path: archive, reason: "layer \(layer.digest): \(error)")
    }
    if let diffID, let hasher {
      let actual = Digest(sha256Bytes: hasher.finalize())
      guard actual == diffID else {
        throw ArchiveError.blobMismatch(
          path: archive, digest: layer.digest, reason: "decompresses to \(actual), not \(diffID)")
      }
    }
    return (size, gzip?.memberEnds ?? [])
  }

  /// Writes the staging layout as a tar beside the output, then renames it into place. The tar is laid out
  /// first (`layOut`); then the blobs are copied and the uncompressed layers inflated into it (a layer of
  /// many gzip members in parts, `LayerPart`), one piece per core. A predicted layer written in parts is
  /// read back and checked against its diffID when its last part is in.
  func writeTar() async throws {
    let tar = try PlannedTar(path: path + ".hoist-tmp", partSize: maxFileSize)
    do {
      let (work, planned) = try layOut(tar)
      var checks = planned
      let archive = path
      var pending = work[...]
      try await runBounded(width: ProcessInfo.processInfo.activeProcessorCount) {
        () -> (@Sendable () async throws -> Digest?)? in
        guard let (member, offset) = pending.popFirst() else { return nil }
        return {
          try member.write(into: tar, at: offset, archive: archive)
          guard case .inflated(let plain, .some) = member, plain.predicted else { return nil }
          return plain.diffID
        }
      } finished: { finished in
        if let layer = finished, let left = checks[layer]?.partsLeft {
          checks[layer]?.partsLeft = left - 1
          if left == 1, let check = checks[layer]?.check { pending.insert(check, at: pending.startIndex) }
        }
      }
      try placeParts(tar.files)
    } catch {
      for file in tar.files { try? FileManager.default.removeItem(atPath: file) }
      throw error
    }
  }

  /// Adds every member's header to `tar` (the metadata files written at once), and returns the pieces of
  /// work that write the members' data, at their offsets, and the check that follows the parts of each
  /// predicted layer written in parts, with how many parts it waits for.
  private func layOut(_ tar: PlannedTar) throws -> (
    work: [(Member, Int64)], checks: [Digest: (partsLeft: Int, check: (Member, Int64))]
  ) {
    for name in ["oci-layout", "index.json", "manifest.json", "repositories", DeltaRecord.name]
    where FileManager.default.fileExists(atPath: staging + "/" + name) {
      try tar.add(name: name, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: staging + "/" + name))))
    }
    try tar.addDirectory(name: "blobs/")
    try tar.addDirectory(name: "blobs/sha256/")
    let folder = staging + "/blobs/sha256/"
    let skipped = Set(superseded.map(\.hex))
    var sources = [String: Member]()
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) where !skipped.contains(name) {
      sources[name] = .file(folder + name)
    }
    for (diffID, plain) in inflated { sources[diffID.hex] = .inflated(plain, part: nil) }
    var work = [(Member, Int64)]()
    var checks = [Digest: (partsLeft: Int, check: (Member, Int64))]()
    for name in sources.keys.sorted() {
      let member = sources[name]!
      let offset = try tar.addFile(name: "blobs/sha256/" + name, size: try member.size())
      let pieces = member.pieces
      work += pieces.map { ($0, offset) }
      if case .inflated(let plain, _) = member, plain.predicted, pieces.count > 1 {
        checks[plain.diffID] = (pieces.count, (.check(plain), offset))
      }
    }
    try tar.finish()
    return (work, checks)
  }

  /// Renames the written tar into place: one file when it fit in one, else its parts (`PATH.001`, …), with
  /// any part an earlier, larger output left beyond them removed.
  private func placeParts(_ files: [String]) throws {
    guard files.count > 1 else { return try rename(files[0], to: path) }
    for (number, file) in files.enumerated() { try rename(file, to: Volumes.part(path, number + 1)) }
    var stale = files.count + 1
    while FileManager.default.fileExists(atPath: Volumes.part(path, stale)) {
      try FileManager.default.removeItem(atPath: Volumes.part(path, stale))
      stale += 1
    }
    if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
  }
}
