import Foundation
import OCI
import Streams

/// A docker archive: `docker load`'s metadata, layers inflated for old loaders, and the tar laid out once.
extension LayoutDestination {
  /// `manifest.json` and `repositories` for `docker load`, one entry per named image; with
  /// `uncompressedLayers`, each image's layers are decompressed and its OCI manifest rewritten to match.
  func writeDockerMetadata(_ index: inout Index) async throws {
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
      if uncompressedLayers {
        let compressed = manifest
        manifest = try await decompressLayers(of: manifest, name: name)
        superseded.insert(entry.digest)
        superseded.formUnion(Set(compressed.layers.map(\.digest)).subtracting(manifest.layers.map(\.digest)))
        let bytes = manifest.encoded()
        let digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
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
  }

  /// Checks each compressed layer's plain tar against the config's diffIDs and notes its size, for `writeTar`
  /// to inflate it again into the archive; layers decompress in parallel, one per core.
  func decompressLayers(of manifest: Manifest, name: String) async throws -> Manifest {
    let config = try ImageConfig.decode(
      Data(contentsOf: URL(fileURLWithPath: blobPath(manifest.config.digest))), what: "config of \(name)")
    let work = manifest.layers.enumerated().filter { i, layer in
      !MediaType.isUncompressedLayer(layer.mediaType) && i < config.rootfs.diffIDs.count
    }
    let plainType =
      manifest.mediaType == MediaType.dockerManifest ? MediaType.dockerLayerUncompressed : MediaType.ociLayer
    let (staging, path, minimum) = (staging, path, layerPartMinimum)
    var out = manifest
    try await withThrowingTaskGroup(of: (Int, Descriptor, [LayerPart]).self) { group in
      var pending = work[...]
      func startNext() {
        guard let (i, layer) = pending.popFirst() else { return }
        let diffID = config.rootfs.diffIDs[i]
        let compressed = staging + "/blobs/sha256/" + layer.digest.hex
        group.addTask {
          let (size, memberEnds) = try Self.inflate(compressed, archive: path, layer: layer, expecting: diffID) { _ in }
          let parts = LayerPart.split(memberEnds, size: size, minimum: minimum)
          return (i, Descriptor(mediaType: plainType, digest: diffID, size: size), parts)
        }
      }
      for _ in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) { startNext() }
      while let (i, plain, parts) = try await group.next() {
        out.layers[i] = plain
        let layer = manifest.layers[i]
        inflated[plain.digest] = (staging + "/blobs/sha256/" + layer.digest.hex, layer, plain.size, parts)
        startNext()
      }
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
  /// first (`PlannedTar`); then the blobs are copied and the uncompressed layers inflated into it (a layer
  /// of many gzip members in parts, `LayerPart`), one piece per core.
  func writeTar() async throws {
    let temporary = path + ".hoist-tmp"
    let tar = try PlannedTar(path: temporary, partSize: maxFileSize)
    do {
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
      for (diffID, plain) in inflated {
        sources[diffID.hex] = .inflated(plain.compressed, layer: plain.layer, size: plain.size, parts: plain.parts)
      }
      var work = [(Member, Int64)]()
      for name in sources.keys.sorted() {
        let member = sources[name]!
        let offset = try tar.addFile(name: "blobs/sha256/" + name, size: try member.size())
        work += member.pieces.map { ($0, offset) }
      }
      try tar.finish()
      let archive = path
      try await withThrowingTaskGroup(of: Void.self) { group in
        var pending = work[...]
        func startNext() {
          guard let (member, offset) = pending.popFirst() else { return }
          group.addTask { try member.write(into: tar, at: offset, archive: archive) }
        }
        for _ in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) { startNext() }
        while try await group.next() != nil { startNext() }
      }
      try placeParts(tar.files)
    } catch {
      for file in tar.files { try? FileManager.default.removeItem(atPath: file) }
      throw error
    }
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

  /// Where a blob in the tar comes from: a file of the staging layout, or a compressed layer to inflate
  /// (whole, or one of its parts).
  private enum Member: Sendable {
    case file(String)
    case inflated(String, layer: Descriptor, size: Int64, parts: [LayerPart])

    func size() throws -> Int64 {
      switch self {
      case .file(let file):
        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
      case .inflated(_, _, let size, _): size
      }
    }

    /// The pieces of work writing the member takes: an inflated layer's parts, each a member of one part.
    var pieces: [Member] {
      guard case .inflated(let compressed, let layer, let size, let parts) = self, parts.count > 1 else {
        return [self]
      }
      return parts.map { .inflated(compressed, layer: layer, size: size, parts: [$0]) }
    }

    /// Writes the member's data (or, for a part, its share) into the tar, whose data for it starts at `offset`.
    func write(into tar: PlannedTar, at offset: Int64, archive: String) throws {
      switch self {
      case .file(let file):
        let reader = try FileRangeReader(path: file)
        var at = offset
        while case let chunk = try reader.read(maxLength: IOSize.preferred), !chunk.isEmpty {
          try tar.write(chunk, at: at)
          at += Int64(chunk.count)
        }
      case .inflated(let compressed, let layer, let size, let parts):
        guard parts.count <= 1 else {
          for piece in pieces { try piece.write(into: tar, at: offset, archive: archive) }
          return
        }
        let part = parts.first
        let (start, end) = (offset + (part?.plain.lowerBound ?? 0), offset + (part?.plain.upperBound ?? size))
        var at = start
        let mismatch = ArchiveError.invalid(
          path: archive,
          reason: "layer \(layer.digest) inflated to \(size) bytes when checked and to another size when written: "
            + "its staged copy changed meanwhile; pull again")
        let (written, _) = try LayoutDestination.inflate(
          compressed, range: part?.compressed, archive: archive, layer: layer, expecting: nil
        ) {
          // Never past the member (or the part): the next one follows.
          guard at + Int64($0.count) <= end else { throw mismatch }
          try tar.write($0, at: at)
          at += Int64($0.count)
        }
        guard start + written == end else { throw mismatch }
      }
    }
  }
}

/// A run of whole gzip members of a layer: where its bytes lie in the compressed blob and in the plain tar.
/// A layer of many members (hoist writes members of 1 MiB) is inflated into the archive in parts, in
/// parallel, whatever the sizes of its layers; a layer of one member is one part.
struct LayerPart: Sendable, Equatable {
  var compressed: Range<Int64>
  var plain: Range<Int64>

  /// The least plain bytes in a part: enough that a part's start-up is nothing beside its work.
  static let minimumPlainSize: Int64 = 32 << 20

  /// Cuts a layer at member ends into parts of at least `minimum` plain bytes (the last takes the rest);
  /// none when the layer makes one part or its ends are not known: it is inflated whole.
  static func split(_ memberEnds: [GzipMemberEnd], size: Int64, minimum: Int64 = minimumPlainSize) -> [LayerPart] {
    guard let last = memberEnds.last, last.plain == size else { return [] }
    var parts = [LayerPart]()
    var start = GzipMemberEnd(compressed: 0, plain: 0)
    for end in memberEnds where end.plain - start.plain >= minimum && size - end.plain >= minimum {
      parts.append(LayerPart(compressed: start.compressed..<end.compressed, plain: start.plain..<end.plain))
      start = end
    }
    parts.append(LayerPart(compressed: start.compressed..<last.compressed, plain: start.plain..<size))
    return parts.count > 1 ? parts : []
  }
}
