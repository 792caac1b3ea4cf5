import Foundation
import OCI
import Streams

/// What a delta bundle leaves out: the blobs its images name that the bundles (or registry inventories) it
/// was made against already hold, kept in the bundle as `hoist-delta.json`. Pushing the bundle checks that
/// the destination holds each of them before anything is written; `verify` takes them as expected elsewhere.
public struct DeltaRecord: Codable, Sendable, Equatable {
  /// A blob left out.
  public struct Blob: Codable, Sendable, Equatable, Hashable {
    public var digest: Digest
    public var size: Int64

    public init(digest: Digest, size: Int64) {
      self.digest = digest
      self.size = size
    }
  }

  /// The bundles or inventories the delta was made against, as named.
  public var since: [String]
  public var omitted: [Blob]
  /// The names of the images in those bundles (`org.opencontainers.image.ref.name`): where a push under the
  /// same `--registry` put them, the left-out blobs are, to be mounted from.
  public var baseImages: [String]?

  public init(since: [String], omitted: [Blob], baseImages: [String]? = nil) {
    self.since = since
    self.omitted = omitted.sorted { $0.digest.description < $1.digest.description }
    self.baseImages = baseImages.flatMap { $0.isEmpty ? nil : $0.sorted() }
  }

  /// The file's name in a layout.
  public static let name = "hoist-delta.json"

  /// The record a bundle holds, nil for a bundle that holds every blob it names.
  public static func read(bundle path: String) throws -> DeltaRecord? {
    // hoist writes deltas as layouts or plain tars; a compressed tar is not read through for nothing.
    if let head = try? FileRangeReader(path: Volumes.parts(of: path)[0], length: 4).read(maxLength: 4),
      Compression(magic: head) != .none
    {
      return nil
    }
    return try read(in: try BundleFiles.open(path), path: path)
  }

  /// The record among a bundle's `files`, nil when there is none.
  static func read(in files: any LayoutFiles, path: String) throws -> DeltaRecord? {
    guard try files.exists(name) else { return nil }
    do {
      return try JSONDecoder().decode(DeltaRecord.self, from: try files.read(name, limit: 64 << 20))
    } catch {
      throw ArchiveError.invalid(path: path, reason: "\(name) does not parse: \(error)")
    }
  }
}

/// The blobs a delta may leave out: those a bundle holds (its own and those it left out itself, which the
/// destination has too), or those an inventory of a registry lists.
public enum DeltaBase {
  /// An inventory: `{"blobs": [{"digest": …, "size": …}]}`, as `hoist inventory` writes it.
  public struct Inventory: Codable, Sendable {
    public var blobs: [DeltaRecord.Blob]
    public init(blobs: [DeltaRecord.Blob]) { self.blobs = blobs }
  }

  /// What a delta's bases hold: blobs by digest with their sizes, and the names of the images of the
  /// bundles among them (where a push under the same `--registry` put those blobs).
  public struct Held: Sendable, Equatable {
    public var blobs = [Digest: Int64]()
    public var images = Set<String>()

    public init() {}

    /// Both, with `other`'s added; a blob's first size stands.
    public mutating func add(_ other: Held) {
      blobs.merge(other.blobs) { first, _ in first }
      images.formUnion(other.images)
    }
  }

  /// What `path` holds, a bundle (read once: its blobs, those it left out itself, its images' names and its
  /// own bases' names) or an inventory file (blobs only).
  public static func held(at path: String) throws -> Held {
    var held = Held()
    if path.hasSuffix(".json") {
      guard let data = FileManager.default.contents(atPath: path) else { throw ArchiveError.missing(path: path) }
      guard let inventory = try? JSONDecoder().decode(Inventory.self, from: data) else {
        throw ArchiveError.invalid(path: path, reason: "not an inventory of blobs (hoist inventory writes one)")
      }
      held.blobs = Dictionary(inventory.blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
      return held
    }
    let files = try BundleFiles.open(path)
    for (name, digest) in try BundleFiles.blobNames(files) { held.blobs[digest] = try files.size(name) ?? 0 }
    let record = try DeltaRecord.read(in: files, path: path)
    for blob in record?.omitted ?? [] { held.blobs[blob.digest] = blob.size }
    held.images.formUnion(record?.baseImages ?? [])
    if try files.exists("index.json") {
      let index = try Index.decode(files.read("index.json", limit: maximumDocumentSize), what: "\(path): index.json")
      held.images.formUnion(index.manifests.compactMap(\.refName))
    }
    return held
  }
}

/// A bundle's files, in a folder or a tar.
enum BundleFiles {
  static func open(_ path: String) throws -> any LayoutFiles {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: Volumes.parts(of: path)[0], isDirectory: &isDirectory) else {
      throw ArchiveError.missing(path: path)
    }
    return isDirectory.boolValue ? DirectoryFiles(path: path) : TarFiles(archive: try TarArchive(path: path))
  }

  /// The files under `blobs/sha256/` whose names are digests, with the digest each claims.
  static func blobNames(_ files: any LayoutFiles) throws -> [(String, Digest)] {
    let prefix = "blobs/sha256/"
    let names: [String]
    switch files {
    case let tar as TarFiles:
      names = tar.archive.entries.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    default: names = (try? FileManager.default.contentsOfDirectory(atPath: files.path + "/" + prefix)) ?? []
    }
    return names.sorted().compactMap { hex in (try? Digest("sha256:" + hex)).map { (prefix + hex, $0) } }
  }
}
