import Foundation
import OCI

/// What hoist remembers about blobs between runs: which compressed blob a layer became (uncompressed
/// digest → compressed digest and size), so a later push can ask the registry for it instead of
/// compressing again; where each blob was last seen (registry host and repository), so a push to
/// another repository of that registry can mount it instead of sending it; and the zTOC built for a layer
/// (`--soci`), a file beside the cache's, so a layer the registry holds need not be read again to index it.
public actor BlobInfoCache {
  struct Entry: Codable, Sendable {
    var digest: Digest
    var size: Int64
  }

  /// A repository where a blob was seen, and when.
  struct Sighting: Codable, Sendable {
    var repository: String
    var seen: Date
  }

  /// The file's layout.
  struct Stored: Codable {
    var layers: [String: Entry]
    /// By `registry digest`, newest first.
    var locations: [String: [Sighting]]
  }

  /// At most this many repositories are remembered per blob and registry, and this many blob-registry
  /// pairs in all (about 2 MB of JSON); the oldest are forgotten first.
  static let repositoriesPerBlob = 4
  static let maximumLocations = 10_000

  private let file: URL?
  private var layers: [String: Entry]
  private var locations: [String: [Sighting]]
  private var dirty = false
  private var lastSaved = ContinuousClock.now

  /// A cache kept in `file` (read now, written by `save`), or in memory only when `file` is nil.
  public init(file: URL?) {
    self.file = file
    let stored = file.flatMap { Self.load($0) }
    layers = stored?.layers ?? [:]
    locations = stored?.locations ?? [:]
  }

  /// Reads the file, also as the earlier layout (only the layer map).
  private static func load(_ file: URL) -> Stored? {
    guard let data = try? Data(contentsOf: file) else { return nil }
    if let stored = try? JSONDecoder().decode(Stored.self, from: data) { return stored }
    return (try? JSONDecoder().decode([String: Entry].self, from: data)).map { Stored(layers: $0, locations: [:]) }
  }

  /// The zTOC kept for a layer blob under `settings` (the span and the tool, which the zTOC holds).
  func ztoc(for layer: Digest, settings: String) -> Data? {
    guard let file = ztocFile(layer, settings) else { return nil }
    return try? Data(contentsOf: file)
  }

  /// Keeps a layer's zTOC for later runs; a cache that cannot be written is no error.
  func keepZtoc(_ ztoc: Data, for layer: Digest, settings: String) {
    guard let file = ztocFile(layer, settings) else { return }
    try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? ztoc.write(to: file, options: .atomic)
  }

  private func ztocFile(_ layer: Digest, _ settings: String) -> URL? {
    let name = "\(layer.hex)-" + String(settings.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "_" })
    return file?.deletingLastPathComponent().appendingPathComponent("ztoc").appendingPathComponent(name)
  }

  private static func key(_ uncompressed: Digest, _ compression: String) -> String {
    "\(compression) \(uncompressed)"
  }

  /// The compressed blob recorded for a layer under the given compression settings.
  func lookup(_ uncompressed: Digest, compression: String) -> Descriptor? {
    layers[Self.key(uncompressed, compression)].map {
      Descriptor(mediaType: MediaType.ociLayerGzip, digest: $0.digest, size: $0.size)
    }
  }

  /// Records what a layer compressed to.
  func record(_ uncompressed: Digest, compression: String, digest: Digest, size: Int64) {
    layers[Self.key(uncompressed, compression)] = Entry(digest: digest, size: size)
    dirty = true
  }

  /// Records that `registry` holds the blob in `repository` now (pushed, pulled, or confirmed).
  public func sawBlob(_ digest: Digest, at location: MountOrigin) {
    let key = "\(location.registry) \(digest)"
    var sightings = locations[key, default: []].filter { $0.repository != location.repository }
    sightings.insert(Sighting(repository: location.repository, seen: Date()), at: 0)
    locations[key] = Array(sightings.prefix(Self.repositoriesPerBlob))
    dirty = true
    if locations.count > Self.maximumLocations { locations = Self.bounded(locations) }
  }

  /// The repositories of `registry` where the blob was last seen, newest first.
  public func locations(of digest: Digest, registry: String) -> [MountOrigin] {
    (locations["\(registry) \(digest)"] ?? []).map { MountOrigin(registry: registry, repository: $0.repository) }
  }

  /// The newest nine tenths of `maximumLocations` blob-registry pairs, when there are more than that many.
  static func bounded(_ locations: [String: [Sighting]]) -> [String: [Sighting]] {
    guard locations.count > maximumLocations else { return locations }
    let newest = locations.sorted { ($0.value.first?.seen ?? .distantPast) > ($1.value.first?.seen ?? .distantPast) }
    return Dictionary(uniqueKeysWithValues: newest.prefix(maximumLocations * 9 / 10).map { ($0.key, $0.value) })
  }

  /// Saves what was learnt if the last save is `interval` seconds old: a run of many images keeps its
  /// findings against an interruption without writing the file after every image.
  public func checkpoint(interval: Double = 5) {
    guard ContinuousClock.now - lastSaved >= .seconds(interval) else { return }
    save()
  }

  /// Writes the cache (merged with what other runs wrote meanwhile, newer sightings first) atomically;
  /// failures are not fatal.
  public func save() {
    lastSaved = ContinuousClock.now
    guard dirty, let file else { return }
    var merged = Self.load(file) ?? Stored(layers: [:], locations: [:])
    merged.layers.merge(layers) { _, new in new }
    merged.locations.merge(locations) { old, new in
      let kept = old.filter { sighting in !new.contains { $0.repository == sighting.repository } }
      return Array((new + kept).sorted { $0.seen > $1.seen }.prefix(Self.repositoriesPerBlob))
    }
    merged.locations = Self.bounded(merged.locations)
    let directory = file.deletingLastPathComponent()
    try? FileManager.default.createDirectory(
      at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    guard let data = try? JSONEncoder().encode(merged) else { return }
    try? data.write(to: file, options: .atomic)
    dirty = false
  }
}
