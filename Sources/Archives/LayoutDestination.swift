import Foundation
import OCI
import Streams

/// The file formats hoist writes.
public enum OutputFormat: String, Sendable, CaseIterable {
  /// An OCI image layout folder.
  case oci
  /// An OCI image layout in a tar.
  case ociArchive = "oci-archive"
  /// A tar that `docker load` and `podman load` read (`manifest.json`, `repositories`) and that is an OCI
  /// layout as well (`oci-layout`, `index.json`).
  case dockerArchive = "docker-archive"
  /// skopeo's `dir:` format: one image, `manifest.json`, `version`, and blobs named by their hex digests.
  case dir

  /// The format a path implies: a `.tar` file is a docker archive, anything else a layout folder.
  public static func implied(by path: String) -> OutputFormat {
    path.hasSuffix(".tar") ? .dockerArchive : .oci
  }
}

/// An OCI layout, a layout tar or a docker archive being written, as the destination of copies.
///
/// Everything goes into a staging layout first: `PATH.hoist-partial` beside the output (or, for an
/// existing layout folder, the folder itself, where blobs are added under their final names and
/// `index.json` is replaced last). `commit` writes `index.json` (and for a tar, the tar) and renames the
/// result into place, so the output appears only when complete. Whole blobs left in the staging layout by an
/// interrupted run are found again by the next.
public actor LayoutDestination: ImageDestination {
  public nonisolated let path: String
  public nonisolated let format: OutputFormat
  /// Write docker archive layers uncompressed (for loaders older than Docker 1.10's gzip support).
  let uncompressedLayers: Bool
  let staging: String
  let inPlace: Bool
  private var entries: [Descriptor] = []
  /// Every manifest and index stored, for the `dir:` format, which keeps them apart from other blobs.
  private var manifests = Set<Digest>()
  /// Blobs the output no longer names (compressed layers and manifests replaced by uncompressed ones).
  private var superseded = Set<Digest>()
  /// Uncompressed layers, by diffID: the compressed blob they come from and their size. They are checked
  /// first and inflated again straight into the tar, so they touch the disk once.
  private var inflated = [Digest: (compressed: String, layer: Descriptor, size: Int64)]()
  private var reused = 0
  private var resumedBytes: Int64 = 0

  public init(path: String, format: OutputFormat, uncompressedLayers: Bool = false) throws {
    self.path = path
    self.format = format
    self.uncompressedLayers = uncompressedLayers
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if format == .oci && exists {
      guard isDirectory.boolValue else { throw ArchiveError.invalid(path: path, reason: "exists and is not a folder") }
      let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
      guard contents.isEmpty || contents.contains("index.json") else {
        throw ArchiveError.invalid(path: path, reason: "exists and is not an OCI layout (no index.json)")
      }
      staging = path
      inPlace = true
    } else {
      staging = path + ".hoist-partial"
      inPlace = false
    }
    try FileManager.default.createDirectory(
      atPath: staging + "/blobs/sha256", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: staging + "/.hoist-uploads", withIntermediateDirectories: true)
  }

  public nonisolated var description: String { path }

  /// What an earlier, interrupted run had stored: whole blobs, and bytes of partial ones continued.
  public var reusedFromEarlierRun: (blobs: Int, partialBytes: Int64) { (reused, resumedBytes) }

  private func blobPath(_ digest: Digest) -> String { staging + "/" + LayoutPath.blob(digest) }

  public func blobExists(_ descriptor: Descriptor) async throws -> Bool {
    let attributes = try? FileManager.default.attributesOfItem(atPath: blobPath(descriptor.digest))
    guard (attributes?[.size] as? NSNumber)?.int64Value == descriptor.size else { return false }
    if !inPlace { reused += 1 }
    return true
  }

  public func putBlob(_ bytes: Data, descriptor: Descriptor) async throws {
    try write(bytes, to: blobPath(descriptor.digest))
  }

  public func beginUpload(expected: Descriptor?, reopen: BlobReopener?) async throws -> any BlobUpload {
    let upload = try FileUpload(
      folder: staging + "/.hoist-uploads", blobs: staging + "/blobs/sha256", expected: expected)
    resumedBytes += upload.resumeOffset
    return upload
  }

  public func putManifest(_ bytes: Data, mediaType: String, reference: ManifestReference) async throws -> Digest {
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
    try write(bytes, to: blobPath(digest))
    manifests.insert(digest)
    switch reference {
    case .tag(let name):
      entries.removeAll { $0.refName == name }
      entries.append(
        Descriptor(
          mediaType: mediaType, digest: digest, size: Int64(bytes.count),
          annotations: [Annotation.refName: name]))
    case .digest:
      // A referrer is listed, unnamed and with its artifact type, so that OCI tools (oras) find it.
      guard let listed = Referrer.listed(bytes, mediaType: mediaType, digest: digest),
        !entries.contains(where: { $0.digest == digest && $0.refName == nil })
      else { break }
      var entry = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
      entry.artifactType = listed.descriptor.artifactType
      entries.append(entry)
    }
    return digest
  }

  public func currentManifest(tag: String) async throws -> (bytes: Data, mediaType: String)? { nil }

  public func commit() async throws {
    if format == .dir { return try commitDir() }
    var index = Index(mediaType: MediaType.ociIndex, manifests: [])
    if let existing = try? Data(contentsOf: URL(fileURLWithPath: staging + "/index.json")),
      let old = try? Index.decode(existing, what: "index.json")
    {
      let names = Set(entries.compactMap(\.refName))
      let unnamed = Set(entries.filter { $0.refName == nil }.map(\.digest))
      index.manifests = old.manifests.filter { entry in
        entry.refName.map { !names.contains($0) } ?? !unnamed.contains(entry.digest)
      }
    }
    index.manifests += entries
    try write(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: staging + "/oci-layout")
    if format == .dockerArchive { try await writeDockerMetadata(&index) }
    try write(index.encoded(), to: staging + "/index.json")
    try? FileManager.default.removeItem(atPath: staging + "/.hoist-uploads")
    switch format {
    case .oci, .dir:
      if !inPlace { try rename(staging, to: path) }
    case .ociArchive, .dockerArchive:
      try await writeTar()
      try FileManager.default.removeItem(atPath: staging)
    }
  }

  /// Lays the staging folder out as skopeo's `dir:` format and renames it into place: the image's manifest
  /// as `manifest.json`, the manifests an index names as `<hex>.manifest.json`, every other blob as `<hex>`.
  private func commitDir() throws {
    guard entries.count == 1, let root = entries.first else {
      throw ArchiveError.invalid(
        path: path,
        reason: "a dir: folder holds exactly one image, not \(entries.count); write several as an OCI layout or archive"
      )
    }
    let manager = FileManager.default
    let blobs = staging + "/blobs/sha256"
    let manifestNames = Set(manifests.map(\.hex))
    for name in try manager.contentsOfDirectory(atPath: blobs) {
      let target =
        name == root.digest.hex ? "manifest.json" : manifestNames.contains(name) ? "\(name).manifest.json" : name
      try rename(blobs + "/" + name, to: staging + "/" + target)
    }
    try manager.removeItem(atPath: staging + "/blobs")
    try? manager.removeItem(atPath: staging + "/.hoist-uploads")
    try write(Data("Directory Transport Version: 1.1\n".utf8), to: staging + "/version")
    try rename(staging, to: path)
  }

  /// After a failure: removes the staging folder when it holds nothing a later run could reuse.
  public func abandon() {
    let manager = FileManager.default
    let uploads = staging + "/.hoist-uploads"
    if (try? manager.contentsOfDirectory(atPath: uploads))?.isEmpty ?? false {
      try? manager.removeItem(atPath: uploads)
    }
    guard !inPlace else { return }
    let blobs = (try? manager.contentsOfDirectory(atPath: staging + "/blobs/sha256")) ?? []
    if blobs.isEmpty && !manager.fileExists(atPath: uploads) { try? manager.removeItem(atPath: staging) }
  }

  /// `manifest.json` and `repositories` for `docker load`, one entry per named image; with
  /// `uncompressedLayers`, each image's layers are decompressed and its OCI manifest rewritten to match.
  private func writeDockerMetadata(_ index: inout Index) async throws {
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
  private func decompressLayers(of manifest: Manifest, name: String) async throws -> Manifest {
    let config = try ImageConfig.decode(
      Data(contentsOf: URL(fileURLWithPath: blobPath(manifest.config.digest))), what: "config of \(name)")
    let work = manifest.layers.enumerated().filter { i, layer in
      !MediaType.isUncompressedLayer(layer.mediaType) && i < config.rootfs.diffIDs.count
    }
    let plainType =
      manifest.mediaType == MediaType.dockerManifest ? MediaType.dockerLayerUncompressed : MediaType.ociLayer
    let (staging, path) = (staging, path)
    var out = manifest
    try await withThrowingTaskGroup(of: (Int, Descriptor).self) { group in
      var pending = work[...]
      func startNext() {
        guard let (i, layer) = pending.popFirst() else { return }
        let diffID = config.rootfs.diffIDs[i]
        let compressed = staging + "/blobs/sha256/" + layer.digest.hex
        group.addTask {
          let size = try Self.inflate(compressed, archive: path, layer: layer, expecting: diffID) { _ in }
          return (i, Descriptor(mediaType: plainType, digest: diffID, size: size))
        }
      }
      for _ in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) { startNext() }
      while let (i, plain) = try await group.next() {
        out.layers[i] = plain
        let layer = manifest.layers[i]
        inflated[plain.digest] = (staging + "/blobs/sha256/" + layer.digest.hex, layer, plain.size)
        startNext()
      }
    }
    return out
  }

  /// Decompresses one layer (gzip or zstd, as its first bytes say), handing the plain bytes to `sink` in
  /// order; when `diffID` is given, checks them against it. Returns the plain size.
  private static func inflate(
    _ compressed: String, archive: String, layer: Descriptor, expecting diffID: Digest?,
    into sink: ([UInt8]) throws -> Void
  ) throws -> Int64 {
    let reader = try FileRangeReader(path: compressed)
    var chunk = try reader.read(maxLength: IOSize.preferred)
    guard let decompressor = Compression(magic: Array(chunk.prefix(4))).decompressor() else {
      throw ArchiveError.invalid(
        path: archive,
        reason: "layer \(layer.digest) is \(layer.mediaType), which hoist cannot decompress; pull without "
          + "--uncompressed-layers to keep it as it is")
    }
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
    return size
  }

  /// Writes the staging layout as a tar beside the output, then renames it into place. The tar is laid out
  /// first (`PlannedTar`); then the blobs are copied and the uncompressed layers inflated into it, one per core.
  private func writeTar() async throws {
    let temporary = path + ".hoist-tmp"
    do {
      let tar = try PlannedTar(path: temporary)
      for name in ["oci-layout", "index.json", "manifest.json", "repositories"]
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
        sources[diffID.hex] = .inflated(plain.compressed, layer: plain.layer, size: plain.size)
      }
      var work = [(Member, Int64)]()
      for name in sources.keys.sorted() {
        let member = sources[name]!
        work.append((member, try tar.addFile(name: "blobs/sha256/" + name, size: try member.size())))
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
      try rename(temporary, to: path)
    } catch {
      try? FileManager.default.removeItem(atPath: temporary)
      throw error
    }
  }

  /// Where a blob in the tar comes from: a file of the staging layout, or a compressed layer to inflate.
  private enum Member: Sendable {
    case file(String)
    case inflated(String, layer: Descriptor, size: Int64)

    func size() throws -> Int64 {
      switch self {
      case .file(let file):
        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
      case .inflated(_, _, let size): size
      }
    }

    func write(into tar: PlannedTar, at offset: Int64, archive: String) throws {
      switch self {
      case .file(let file):
        let reader = try FileRangeReader(path: file)
        var at = offset
        while case let chunk = try reader.read(maxLength: IOSize.preferred), !chunk.isEmpty {
          try tar.write(chunk, at: at)
          at += Int64(chunk.count)
        }
      case .inflated(let compressed, let layer, let size):
        var at = offset
        let mismatch = ArchiveError.invalid(
          path: archive,
          reason: "layer \(layer.digest) inflated to \(size) bytes when checked and to another size when written: "
            + "its staged copy changed meanwhile; pull again")
        let written = try LayoutDestination.inflate(compressed, archive: archive, layer: layer, expecting: nil) {
          // Never past the member: the next one's header follows.
          guard at + Int64($0.count) <= offset + size else { throw mismatch }
          try tar.write($0, at: at)
          at += Int64($0.count)
        }
        guard written == size else { throw mismatch }
      }
    }
  }

  private func write(_ data: Data, to file: String) throws {
    try data.write(to: URL(fileURLWithPath: file), options: .atomic)
  }

  private func rename(_ from: String, to: String) throws {
    if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
    try FileManager.default.moveItem(atPath: from, toPath: to)
  }
}

/// A blob being written to a temporary file in a layout, renamed under its digest when complete.
/// A blob whose digest is known is written to a file named by it, so a later run finds what an
/// interrupted one wrote and continues from its end.
final class FileUpload: BlobUpload, @unchecked Sendable {
  private let handle: FileHandle
  private let temporary: String
  private let blobs: String
  /// How many bytes of the blob an earlier run had written.
  let resumeOffset: Int64

  init(folder: String, blobs: String, expected: Descriptor?) throws {
    temporary = folder + "/" + (expected.map { "\($0.digest.hex).partial" } ?? UUID().uuidString)
    self.blobs = blobs
    let existing =
      (try? FileManager.default.attributesOfItem(atPath: temporary)[.size] as? NSNumber)?.int64Value ?? 0
    if let expected, existing > 0, existing < expected.size {
      resumeOffset = existing
    } else {
      resumeOffset = 0
      guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
        throw ArchiveError.invalid(path: folder, reason: "cannot create a file there")
      }
    }
    handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
    try handle.seekToEnd()
  }

  func storedPrefix() async throws -> (any BlobReader)? {
    guard resumeOffset > 0 else { return nil }
    return SyncBlobReader(try FileRangeReader(path: temporary, offset: 0, length: resumeOffset))
  }

  func append(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

  func write(_ bytes: [UInt8]) async throws { try append(bytes) }

  func finish(digest: Digest, size: Int64) async throws { try store(as: digest, size: size) }

  /// Renames the file under its digest once its size is right (the engine has checked the digest).
  func store(as digest: Digest, size: Int64) throws {
    try handle.close()
    let written = (try FileManager.default.attributesOfItem(atPath: temporary)[.size] as? NSNumber)?.int64Value
    guard written == size else {
      discard()
      throw ArchiveError.blobMismatch(
        path: temporary, digest: digest, reason: "wrote \(written ?? -1) of \(size) bytes")
    }
    let target = blobs + "/" + digest.hex
    if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
    try FileManager.default.moveItem(atPath: temporary, toPath: target)
  }

  func discard() {
    try? handle.close()
    try? FileManager.default.removeItem(atPath: temporary)
  }

  func cancel(keepPartial: Bool) async {
    if keepPartial { try? handle.close() } else { discard() }
  }
}
