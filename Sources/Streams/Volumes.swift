import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A file kept in parts of at most a size, `NAME.001`, `NAME.002`, …, for media and file systems with a
/// file size limit (FAT32's 4 GiB); read as one file, by offset, without being joined on disk.
public enum Volumes {
  /// The name of part `number` (from 1) of `path`.
  public static func part(_ path: String, _ number: Int) -> String {
    path + "." + String(repeating: "0", count: max(0, 3 - String(number).count)) + String(number)
  }

  /// The files `path` names: its parts in order when it is a first part (`NAME.001`) or when only its parts
  /// exist, else the file itself.
  public static func parts(of path: String) -> [String] {
    let base: String
    if path.hasSuffix(".001") {
      base = String(path.dropLast(4))
    } else if !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: part(path, 1)) {
      base = path
    } else {
      return [path]
    }
    var parts = [String]()
    while FileManager.default.fileExists(atPath: part(base, parts.count + 1)) {
      parts.append(part(base, parts.count + 1))
    }
    return parts.isEmpty ? [path] : parts
  }
}

/// Reads a byte range of a file kept in parts, as if they were one file.
final class PartsRangeReader: ByteReader, @unchecked Sendable {
  private let parts: [(path: String, size: Int64)]
  private var position: Int64
  private let end: Int64
  private var current: (index: Int, reader: FileRangeReader)?

  init(parts: [(path: String, size: Int64)], offset: Int64, length: Int64) {
    self.parts = parts
    self.position = offset
    self.end = offset + length
  }

  func read(maxLength: Int) throws(StreamError) -> [UInt8] {
    guard position < end else { return [] }
    var start: Int64 = 0
    var index = 0
    while index < parts.count, start + parts[index].size <= position {
      start += parts[index].size
      index += 1
    }
    guard index < parts.count else {
      throw .badArchive(path: parts.last?.path ?? "", reason: "the parts end before byte \(position)")
    }
    if current?.index != index {
      let length = min(parts[index].size - (position - start), end - position)
      current = (index, try FileRangeReader(path: parts[index].path, offset: position - start, length: length))
    }
    let bytes = try current!.reader.read(maxLength: Int(min(Int64(maxLength), end - position)))
    if bytes.isEmpty { current = nil }
    position += Int64(bytes.count)
    return bytes
  }
}
