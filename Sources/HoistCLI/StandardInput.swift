import Foundation

/// An archive read from standard input (`hoist push - …`), spooled to a file only its owner can read,
/// beside the blob-info cache, since archives are read at random; the file is removed when done.
struct SpooledInput {
  let path: String

  /// Copies standard input into a new file under `folder`.
  static func spool(into folder: URL) throws -> SpooledInput {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("stdin-\(UUID().uuidString).tar").path
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else {
      throw CocoaError(
        .fileWriteUnknown,
        userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)])
    }
    let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    let spooled = SpooledInput(path: path)
    do {
      while let chunk = try FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty {
        try output.write(contentsOf: chunk)
      }
      try output.close()
    } catch {
      spooled.remove()
      throw error
    }
    return spooled
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}
