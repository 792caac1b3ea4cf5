import Foundation
import OCI
import Streams

/// The files of an image on disk, in a folder or a tar, addressed by relative path.
protocol LayoutFiles: Sendable {
  /// The folder or tar file, for messages.
  var path: String { get }
  /// Whether a regular file (after links) exists at `name`.
  func exists(_ name: String) throws -> Bool
  /// The size of the regular file at `name`, or nil when there is none.
  func size(_ name: String) throws -> Int64?
  /// Reads a whole small file, refusing one larger than `limit`.
  func read(_ name: String, limit: Int) throws -> Data
  /// Opens a file for streaming, from `offset` on.
  func open(_ name: String, from offset: Int64) throws -> any BlobReader
}

extension LayoutFiles {
  /// Opens a file for streaming from its start.
  func open(_ name: String) throws -> any BlobReader { try open(name, from: 0) }
}

/// Adapts a synchronous byte reader to the engine's reader protocol.
final class SyncBlobReader: BlobReader, @unchecked Sendable {
  private let reader: any ByteReader
  init(_ reader: any ByteReader) { self.reader = reader }
  func read(maxLength: Int) async throws -> [UInt8] { try reader.read(maxLength: maxLength) }
}

/// Files inside a tar archive.
struct TarFiles: LayoutFiles {
  let archive: TarArchive
  var path: String { archive.path }

  func exists(_ name: String) throws -> Bool { try archive.resolve(name) != nil }
  func size(_ name: String) throws -> Int64? { try archive.resolve(name)?.size }
  func read(_ name: String, limit: Int) throws -> Data { Data(try archive.read(name, limit: limit)) }
  func open(_ name: String, from offset: Int64) throws -> any BlobReader {
    guard let entry = try archive.resolve(name) else {
      throw StreamError.badMember(path: path, member: name, reason: "not in the archive")
    }
    return SyncBlobReader(try archive.open(entry, from: offset))
  }
}

/// Files in a folder on disk.
struct DirectoryFiles: LayoutFiles {
  let path: String

  private func full(_ name: String) -> String { path + "/" + name }

  func exists(_ name: String) throws -> Bool { try size(name) != nil }

  func size(_ name: String) throws -> Int64? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: full(name), isDirectory: &isDirectory), !isDirectory.boolValue
    else { return nil }
    let attributes = try FileManager.default.attributesOfItem(atPath: full(name))
    return (attributes[.size] as? NSNumber)?.int64Value
  }

  func read(_ name: String, limit: Int) throws -> Data {
    guard let size = try size(name) else {
      throw ArchiveError.invalid(path: path, reason: "\(name) is missing")
    }
    guard size <= Int64(limit) else {
      throw ArchiveError.invalid(path: path, reason: "\(name) is \(size) bytes, more than the \(limit) allowed")
    }
    let reader = try FileRangeReader(path: full(name))
    return Data(try reader.read(maxLength: Int(size)))
  }

  func open(_ name: String, from offset: Int64) throws -> any BlobReader {
    SyncBlobReader(try FileRangeReader(path: full(name), offset: offset))
  }
}

extension LayoutFiles {
  /// Opens the file `name` holding a blob, from `offset` on, once its size matches the descriptor's.
  func openBlob(_ name: String, as descriptor: Descriptor, from offset: Int64) throws -> any BlobReader {
    guard let size = try size(name) else {
      throw ArchiveError.invalid(path: path, reason: "blob \(descriptor.digest) is missing")
    }
    guard size == descriptor.size else {
      throw ArchiveError.blobMismatch(
        path: path, digest: descriptor.digest, reason: "\(size) bytes where the descriptor says \(descriptor.size)")
    }
    return try open(name, from: offset)
  }

  /// Reads a small blob (from `blobs/<alg>/<hex>` unless `name` says where) and checks its size and digest
  /// against the descriptor.
  func verifiedDocument(_ descriptor: Descriptor, at name: String? = nil) throws -> Data {
    let name = name ?? LayoutPath.blob(descriptor.digest)
    guard try exists(name) else {
      throw ArchiveError.invalid(path: path, reason: "blob \(descriptor.digest) is missing")
    }
    let data = try read(name, limit: maximumDocumentSize)
    try check(data, against: descriptor, path: path)
    return data
  }
}

/// Checks whole bytes against a descriptor's size and digest.
func check(_ data: Data, against descriptor: Descriptor, path: String) throws {
  guard Int64(data.count) == descriptor.size else {
    throw ArchiveError.blobMismatch(
      path: path, digest: descriptor.digest, reason: "\(data.count) bytes where the descriptor says \(descriptor.size)")
  }
  let actual = Digest(sha256Bytes: SHA256Hasher.hash(data))
  guard actual == descriptor.digest else {
    throw ArchiveError.blobMismatch(path: path, digest: descriptor.digest, reason: "content hashes to \(actual)")
  }
}
