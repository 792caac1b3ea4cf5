import Foundation
import OCI
import Streams

/// Makes an image layer from a folder or a plain tar (`hoist append`), the same bytes from the same input on
/// every machine: a folder's entries in sorted order, owned by `owner`, with no time after `clamp`; the tar
/// gzip'd by hoist's block compressor, whose output depends only on its input, level and block size.
public struct LayerBuilder: Sendable {
  /// The owner of every member of a layer made from a folder (0:0 unless `--owner`).
  public var owner: (uid: Int, gid: Int) = (0, 0)
  /// The latest modification time a member may have, in seconds since 1970.
  public var clamp: Int
  public var compression: BlockGzip

  public init(clamp: Int, compression: BlockGzip) {
    self.clamp = clamp
    self.compression = compression
  }

  /// A layer made, in a file of its own.
  public struct Layer: Sendable {
    /// The compressed blob, described with `mediaType`.
    public var descriptor: Descriptor
    /// The digest of the uncompressed tar, for the config.
    public var diffID: Digest
    public var path: String

    /// Reads the compressed blob from `offset` on.
    public func open(from offset: Int64) throws -> any BlobReader {
      SyncBlobReader(try FileRangeReader(path: path, offset: offset))
    }
  }

  /// Makes the layer for `source` (a folder, whose contents go under `destination` in the image, or a plain
  /// tar, taken as it is) in `folder`.
  public func build(from source: String, under destination: String = "/", into folder: String, mediaType: String)
    throws -> Layer
  {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
      throw ArchiveError.missing(path: source)
    }
    let id = UUID().uuidString
    var tar = source
    if isDirectory.boolValue {
      tar = folder + "/layer-\(id).tar"
      try writeTar(of: source, under: destination, to: tar)
    } else if try FileRangeReader(path: source, length: 2).read(maxLength: 2) == [0x1f, 0x8b] {
      throw ArchiveError.unrecognized(
        path: source, reason: "a layer is made from a folder or a plain tar, not a gzip file")
    }
    defer { if tar != source { try? FileManager.default.removeItem(atPath: tar) } }
    let output = folder + "/layer-\(id).tar.gz"
    let (diffID, digest, size) = try compress(tar, to: output)
    return Layer(
      descriptor: Descriptor(mediaType: mediaType, digest: digest, size: size), diffID: diffID, path: output)
  }

  /// Gzips `input` block by block into `output`; returns the input's digest and the output's digest and size.
  private func compress(_ input: String, to output: String) throws -> (Digest, Digest, Int64) {
    let reader = try FileRangeReader(path: input)
    guard let file = fopen(output, "wx") else { throw StreamError.io(path: output, operation: "create", errno: errno) }
    defer { fclose(file) }
    let (inputHash, outputHash) = (SHA256Hasher(), SHA256Hasher())
    var size: Int64 = 0
    // An empty tar still makes one gzip member, as the copy engine makes it.
    repeat {
      let block = try reader.read(maxLength: compression.blockSize)
      if block.isEmpty && size > 0 { break }
      inputHash.update(block)
      let compressed = compression.compress(block)
      outputHash.update(compressed)
      guard fwrite(compressed, 1, compressed.count, file) == compressed.count else {
        throw StreamError.io(path: output, operation: "write", errno: errno)
      }
      size += Int64(compressed.count)
      if block.isEmpty { break }
    } while true
    return (Digest(sha256Bytes: inputHash.finalize()), Digest(sha256Bytes: outputHash.finalize()), size)
  }

  /// Writes the folder's tree as a tar: the folders of `destination` first, then every entry in sorted order.
  private func writeTar(of folder: String, under destination: String, to path: String) throws {
    let writer = try TarWriter(path: path)
    let prefix = destination.split(separator: "/").map(String.init)
    for depth in prefix.indices {
      let name = prefix[...depth].joined(separator: "/") + "/"
      try writer.add(.init(name: name, kind: .directory, mode: 0o755, mtime: clamp, uid: owner.uid, gid: owner.gid))
    }
    let base = prefix.isEmpty ? "" : prefix.joined(separator: "/") + "/"
    try add(folder, as: base, to: writer)
    try writer.close()
  }

  private func add(_ folder: String, as base: String, to writer: TarWriter) throws {
    for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
      let path = folder + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0 else { throw StreamError.io(path: path, operation: "stat", errno: errno) }
      let mtime = min(Int(info.st_mtim.tv_sec), clamp)
      let member = base + name
      let mode = UInt32(info.st_mode)
      switch mode & UInt32(S_IFMT) {
      case UInt32(S_IFDIR):
        try writer.add(
          .init(name: member + "/", kind: .directory, mode: mode, mtime: mtime, uid: owner.uid, gid: owner.gid))
        try add(path, as: member + "/", to: writer)
      case UInt32(S_IFREG):
        try writer.add(
          .init(
            name: member, kind: .file(size: Int64(info.st_size)), mode: mode, mtime: mtime, uid: owner.uid,
            gid: owner.gid),
          from: try FileRangeReader(path: path))
      case UInt32(S_IFLNK):
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
        try writer.add(
          .init(name: member, kind: .symlink(target: target), mode: mode, mtime: mtime, uid: owner.uid, gid: owner.gid))
      default:
        throw ArchiveError.unrecognized(path: path, reason: "only files, folders and symbolic links go into a layer")
      }
    }
  }
}
