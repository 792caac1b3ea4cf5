import Foundation
import OCI
import Streams

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
