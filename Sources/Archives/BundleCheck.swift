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
  /// What a delta bundle left out (expected at its destination), by digest, with sizes.
  var omitted = [Digest: Int64]()
  var report: BundleReport

  /// Checks the bundle at `path`, as `verify` does, never throwing: a file that cannot be read as a bundle at
  /// all is the one problem of its report.
  public static func report(path: String, base: [Digest: Int64]? = nil, describe: (any Error) -> String) async
    -> BundleReport
  {
    do {
      return try await verify(path: path, base: base)
    } catch {
      var unreadable = BundleReport(path: path)
      unreadable.problems.append(describe(error))
      return unreadable
    }
  }

  /// Checks the bundle at `path`; a file that is no bundle at all is an error, anything wrong inside one
  /// is a problem in the report.
  public static func verify(path: String, base: [Digest: Int64]? = nil) async throws -> BundleReport {
    let files = try BundleFiles.open(path)
    guard try files.exists("index.json") || files.exists("manifest.json") else {
      throw ArchiveError.unrecognized(
        path: path, reason: "neither an OCI layout (no index.json) nor a docker archive (no manifest.json)")
    }
    var check = BundleCheck(files: files, path: path, report: BundleReport(path: path))
    if let delta = try DeltaRecord.read(bundle: path) { check.leftOut(delta, base: base) }
    try await check.hashBlobs()
    if try files.exists("index.json") { try check.walkLayout() }
    if try files.exists("manifest.json") { try await check.walkDockerArchive() }
    return check.report
  }

  /// The blob files (`blobs/sha256/<hex>`), each read once and hashed; a content that does not match its
  /// name is a problem.
  mutating func hashBlobs() async throws {
    let names = try BundleFiles.blobNames(files)
    let files = files
    var pending = names[...]
    var hashes = [(Digest, Digest, Int64)]()
    try await runBounded(width: max(2, ProcessInfo.processInfo.activeProcessorCount)) {
      () -> (@Sendable () async throws -> (Digest, Digest, Int64))? in
      guard let (name, claimed) = pending.popFirst() else { return nil }
      return {
        let (actual, size) = try Self.hash(files, name)
        return (claimed, actual, size)
      }
    } finished: {
      hashes.append($0)
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

  /// Takes a delta's left-out blobs as held elsewhere; with the `base` it was made against, checks that
  /// the base holds each of them.
  mutating func leftOut(_ delta: DeltaRecord, base: [Digest: Int64]?) {
    omitted = Dictionary(delta.omitted.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
    report.notes.append(
      "a delta since \(delta.since.joined(separator: ", ")): \(delta.omitted.count) blob(s) left out, "
        + "expected at its destination")
    guard let base else { return }
    for blob in delta.omitted where base[blob.digest] != blob.size {
      report.problems.append("the delta leaves out \(blob.digest) (\(blob.size) bytes), which the base does not hold")
    }
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
    guard let blob = held[descriptor.digest] ?? omitted[descriptor.digest].map({ (descriptor.digest, $0) }) else {
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
