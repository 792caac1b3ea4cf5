import Foundation
import OCI
import Streams

/// Checks a bundle offline: an OCI layout (folder or tar) or a docker archive, as `hoist pull` writes them
/// or `docker save` does. Every blob is read once and hashed against its name (in parallel, one reader per
/// core); then every document is parsed and each descriptor checked against what the bundle holds, and the
/// layers a docker archive holds uncompressed against their config's diffIDs.
public struct BundleCheck {
  let files: any LayoutFiles
  let path: String
  /// The digest each blob's content has, by the digest its name claims, and its size.
  var held = [Digest: (actual: Digest, size: Int64)]()
  var report: BundleReport

  /// Checks the bundle at `path`; a file that is no bundle at all is an error, anything wrong inside one
  /// is a problem in the report.
  public static func verify(path: String) async throws -> BundleReport {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ArchiveError.missing(path: path)
    }
    let files: any LayoutFiles =
      isDirectory.boolValue ? DirectoryFiles(path: path) : TarFiles(archive: try TarArchive(path: path))
    guard try files.exists("index.json") || files.exists("manifest.json") else {
      throw ArchiveError.unrecognized(
        path: path, reason: "neither an OCI layout (no index.json) nor a docker archive (no manifest.json)")
    }
    var check = BundleCheck(files: files, path: path, report: BundleReport(path: path))
    try await check.hashBlobs()
    if try files.exists("index.json") { try check.walkLayout() }
    if try files.exists("manifest.json") { try await check.walkDockerArchive() }
    return check.report
  }

  /// The blob files (`blobs/sha256/<hex>`), each read once and hashed; a content that does not match its
  /// name is a problem.
  mutating func hashBlobs() async throws {
    let names = try blobNames()
    let files = files
    let hashes = try await withThrowingTaskGroup(of: (Digest, Digest, Int64).self) { group in
      var pending = names[...]
      var out = [(Digest, Digest, Int64)]()
      func start() {
        guard let (name, claimed) = pending.popFirst() else { return }
        group.addTask {
          let (actual, size) = try Self.hash(files, name)
          return (claimed, actual, size)
        }
      }
      for _ in 0..<max(2, ProcessInfo.processInfo.activeProcessorCount) { start() }
      while let result = try await group.next() {
        out.append(result)
        start()
      }
      return out
    }
    for (claimed, actual, size) in hashes {
      held[claimed] = (actual, size)
      report.blobs += 1
      report.bytes += size
      if actual != claimed {
        report.problems.append("blob \(claimed): its content hashes to \(actual) (\(size) bytes)")
      }
    }
  }

  /// The files under `blobs/sha256/` whose names are digests, with the digest each claims.
  func blobNames() throws -> [(String, Digest)] {
    let prefix = "blobs/sha256/"
    let names: [String]
    switch files {
    case let tar as TarFiles:
      names = tar.archive.entries.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    default: names = (try? FileManager.default.contentsOfDirectory(atPath: path + "/" + prefix)) ?? []
    }
    return names.sorted().compactMap { hex in (try? Digest("sha256:" + hex)).map { (prefix + hex, $0) } }
  }

  /// A file's SHA-256 and size, read once.
  static func hash(_ files: any LayoutFiles, _ name: String) throws -> (Digest, Int64) {
    let reader = try files.byteReader(name)
    let (hash, size) = try SHA256Hasher.hash(reader)
    return (Digest(sha256Bytes: hash), size)
  }

  /// Whether the bundle holds `descriptor`'s blob with its size; a problem naming `what` when not (a note,
  /// when `mayBeLeftOut`: a platform an index names).
  mutating func holds(
    _ descriptor: Descriptor, _ what: @autoclosure () -> String, mayBeLeftOut: Bool = false
  ) -> Bool {
    guard let blob = held[descriptor.digest] else {
      let text = "\(what()) names \(descriptor.digest) (\(descriptor.size) bytes), which is not in the bundle"
      if mayBeLeftOut {
        report.notes.append(text + (descriptor.platform.map { ": platform \($0) left out" } ?? ""))
      } else {
        report.problems.append(text)
      }
      return false
    }
    guard blob.size == descriptor.size else {
      report.problems.append(
        "\(what()) names \(descriptor.digest) as \(descriptor.size) bytes; the bundle holds \(blob.size)")
      return false
    }
    return true
  }

  /// A document's bytes, read after `holds` said it is there.
  func document(_ descriptor: Descriptor) throws -> Data {
    try files.read(LayoutPath.blob(descriptor.digest), limit: 4 << 20)
  }
}

extension LayoutFiles {
  /// A file as a synchronous byte reader, for hashing.
  func byteReader(_ name: String) throws -> any ByteReader {
    if let tar = self as? TarFiles {
      guard let entry = try tar.archive.resolve(name) else {
        throw StreamError.badMember(path: path, member: name, reason: "not in the archive")
      }
      return try tar.archive.open(entry)
    }
    return try FileRangeReader(path: path + "/" + name)
  }
}
