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

  /// The format a path implies: a `.tar` file is a docker archive (an OCI tar for a `delta` bundle, which
  /// leaves blobs out that `docker load` would need), anything else a layout folder.
  public static func implied(by path: String, delta: Bool = false) -> OutputFormat {
    path.hasSuffix(".tar") ? (delta ? .ociArchive : .dockerArchive) : .oci
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
  var entries: [Descriptor] = []
  /// The order in its run of the copy that stored each entry: entries are kept in that order.
  private var entryPositions: [Int] = []
  /// Every manifest and index stored, for the `dir:` format, which keeps them apart from other blobs.
  var manifests = Set<Digest>()
  /// Blobs the output no longer names (compressed layers and manifests replaced by uncompressed ones).
  var superseded = Set<Digest>()
  /// Uncompressed layers, by diffID (`InflatedLayer`): inflated straight into the tar, so they touch the
  /// disk once.
  var inflated = [Digest: InflatedLayer]()
  /// The least plain bytes in a part an uncompressed layer is written in (`LayerPart.split`).
  private(set) var layerPartMinimum = LayerPart.minimumPlainSize
  var reused = 0
  /// Blobs the bundle's destination already holds (a delta's bases), and those left out because of it.
  var base = DeltaBase.Held()
  var since = [String]()
  var omitted = Set<DeltaRecord.Blob>()
  var resumedBytes: Int64 = 0

  /// A tar output larger than this is written in parts of at most this size (`PATH.001`, …).
  let maxFileSize: Int64?

  public init(path: String, format: OutputFormat, uncompressedLayers: Bool = false, maxFileSize: Int64? = nil) throws {
    self.path = path
    self.format = format
    self.uncompressedLayers = uncompressedLayers
    self.maxFileSize = maxFileSize
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
  }

  /// Creates the staging folder (or, in place, the layout's own folders); `abandon` removes what stays
  /// empty.
  public func prepare() async throws {
    try FileManager.default.createDirectory(
      atPath: staging + "/blobs/sha256", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: staging + "/.hoist-uploads", withIntermediateDirectories: true)
  }

  public nonisolated var description: String { path }

  /// What an earlier, interrupted run had stored: whole blobs, and bytes of partial ones continued.
  public var reusedFromEarlierRun: (blobs: Int, partialBytes: Int64) { (reused, resumedBytes) }

  /// Cuts uncompressed layers into smaller parts than `LayerPart.minimumPlainSize`, for tests of small layers.
  func cutLayers(intoPartsOfAtLeast minimum: Int64) { layerPartMinimum = minimum }

  func blobPath(_ digest: Digest) -> String { staging + "/" + LayoutPath.blob(digest) }

  /// Makes this a delta against `base`: blobs it holds are left out (the destination of the bundle has
  /// them) and recorded in `hoist-delta.json`, with the names of the bases' images; `since` names the bases.
  public func leaveOut(_ base: DeltaBase.Held, since: [String]) {
    self.base = base
    self.since = since
  }

  public func blobExists(_ descriptor: Descriptor) async throws -> Bool {
    if base.blobs[descriptor.digest] == descriptor.size {
      omitted.insert(DeltaRecord.Blob(digest: descriptor.digest, size: descriptor.size))
      return true
    }
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

  public func putManifest(
    _ bytes: Data, mediaType: String, reference: ManifestReference, order: Int
  ) async throws -> Digest {
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
    try write(bytes, to: blobPath(digest))
    manifests.insert(digest)
    switch reference {
    case .tag(let name):
      for position in entries.indices.reversed() where entries[position].refName == name {
        entries.remove(at: position)
        entryPositions.remove(at: position)
      }
      list(
        Descriptor(
          mediaType: mediaType, digest: digest, size: Int64(bytes.count),
          annotations: [Annotation.refName: name]), position: order)
    case .digest:
      // A referrer is listed, unnamed and with its artifact type, so that OCI tools (oras) find it.
      guard let listed = Referrer.listed(bytes, mediaType: mediaType, digest: digest),
        !entries.contains(where: { $0.digest == digest && $0.refName == nil })
      else { break }
      var entry = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
      entry.artifactType = listed.descriptor.artifactType
      list(entry, position: order)
    }
    return digest
  }

  /// Lists an entry after those of its own copy and of every copy given before it (`position` is its
  /// copy's order in the run), however the copies of a run interleave.
  private func list(_ entry: Descriptor, position: Int) {
    let at = entryPositions.firstIndex { $0 > position } ?? entries.count
    entries.insert(entry, at: at)
    entryPositions.insert(position, at: at)
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
    if !omitted.isEmpty {
      let record = DeltaRecord(since: since, omitted: Array(omitted), baseImages: Array(base.images))
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      try write(try encoder.encode(record), to: staging + "/" + DeltaRecord.name)
    }
    try? FileManager.default.removeItem(atPath: staging + "/.hoist-uploads")
    switch format {
    case .oci, .dir:
      try write(index.encoded(), to: staging + "/index.json")
      if !inPlace { try rename(staging, to: path) }
    case .ociArchive:
      try write(index.encoded(), to: staging + "/index.json")
      try await writeTar()
      try FileManager.default.removeItem(atPath: staging)
    case .dockerArchive:
      try await writeDockerArchive(index)
      try FileManager.default.removeItem(atPath: staging)
    }
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

  func write(_ data: Data, to file: String) throws {
    try data.write(to: URL(fileURLWithPath: file), options: .atomic)
  }

  func rename(_ from: String, to: String) throws {
    if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
    try FileManager.default.moveItem(atPath: from, toPath: to)
  }
}
