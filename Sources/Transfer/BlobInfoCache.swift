import Foundation
import OCI

/// Remembers which compressed blob a layer became (uncompressed digest → compressed digest and size),
/// so a later push can ask the registry for it instead of compressing again.
public actor BlobInfoCache {
  struct Entry: Codable, Sendable {
    var digest: Digest
    var size: Int64
  }

  private let file: URL?
  private var entries: [String: Entry]
  private var dirty = false

  /// A cache kept in `file` (read now, written by `save`), or in memory only when `file` is nil.
  public init(file: URL?) {
    self.file = file
    self.entries = file.flatMap { Self.load($0) } ?? [:]
  }

  private static func load(_ file: URL) -> [String: Entry]? {
    guard let data = try? Data(contentsOf: file) else { return nil }
    return try? JSONDecoder().decode([String: Entry].self, from: data)
  }

  private static func key(_ uncompressed: Digest, _ compression: String) -> String {
    "\(compression) \(uncompressed)"
  }

  /// The compressed blob recorded for a layer under the given compression settings.
  func lookup(_ uncompressed: Digest, compression: String) -> Descriptor? {
    entries[Self.key(uncompressed, compression)].map {
      Descriptor(mediaType: MediaType.ociLayerGzip, digest: $0.digest, size: $0.size)
    }
  }

  /// Records what a layer compressed to.
  func record(_ uncompressed: Digest, compression: String, digest: Digest, size: Int64) {
    entries[Self.key(uncompressed, compression)] = Entry(digest: digest, size: size)
    dirty = true
  }

  /// Writes the cache (merged with what other runs wrote meanwhile) atomically; failures are not fatal.
  public func save() {
    guard dirty, let file else { return }
    var merged = Self.load(file) ?? [:]
    merged.merge(entries) { _, new in new }
    let directory = file.deletingLastPathComponent()
    try? FileManager.default.createDirectory(
      at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    guard let data = try? JSONEncoder().encode(merged) else { return }
    try? data.write(to: file, options: .atomic)
    dirty = false
  }
}
