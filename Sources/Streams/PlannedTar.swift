import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A tar file laid out before its contents are written: each member's header goes in as it is added, and
/// the offset of its data is known at once, so the data can be written later, in any order and by several
/// tasks at a time (`pwrite`). libarchive writes a tar in order only, which would make a docker archive's
/// layers, decompressed in parallel, touch the disk twice. Members are ustar, owned by root, dated 0, as
/// `TarWriter` writes them; sizes beyond ustar's 8 GiB use the base-256 form GNU tar, Go and libarchive read.
///
/// With a `partSize`, the tar is written in parts of at most that size (`Volumes.part`), each created when
/// the first byte lands in it.
public final class PlannedTar: @unchecked Sendable {
  private let path: String
  private let partSize: Int64?
  private let lock = NSLock()
  /// The open file of each part (one, without a part size).
  private var descriptors = [Int32]()
  private var end: Int64 = 0

  /// Creates (or truncates) the tar file at `path`, or its parts of at most `partSize` bytes.
  public init(path: String, partSize: Int64? = nil) throws(StreamError) {
    self.path = path
    self.partSize = partSize
    _ = try descriptor(part: 0)
  }

  deinit { for descriptor in descriptors { close(descriptor) } }

  /// The files written: the tar, or its parts in order.
  public var files: [String] {
    lock.withLock { partSize == nil ? [path] : (1...descriptors.count).map { Volumes.part(path, $0) } }
  }

  /// The file of part `index` (from 0), created (with every part before it) when first asked for.
  private func descriptor(part index: Int) throws(StreamError) -> Int32 {
    lock.lock()
    defer { lock.unlock() }
    while descriptors.count <= index {
      let name = partSize == nil ? path : Volumes.part(path, descriptors.count + 1)
      let descriptor = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else { throw .io(path: name, operation: "create", errno: errno) }
      descriptors.append(descriptor)
    }
    return descriptors[index]
  }

  /// Adds a regular file member of `size` bytes; returns where its data starts.
  public func addFile(name: String, size: Int64) throws(StreamError) -> Int64 {
    try addHeader(name: name, size: size, type: UInt8(ascii: "0"), mode: 0o644)
    let start = end
    end += (size + 511) / 512 * 512
    return start
  }

  /// Adds a regular file member holding `bytes`.
  public func add(name: String, bytes: [UInt8]) throws(StreamError) {
    try write(bytes, at: try addFile(name: name, size: Int64(bytes.count)))
  }

  /// Adds a directory member.
  public func addDirectory(name: String) throws(StreamError) {
    try addHeader(name: name, size: 0, type: UInt8(ascii: "5"), mode: 0o755)
  }

  /// Writes member data at `offset` (from `addFile`, and on); safe from several threads at once.
  public func write(_ bytes: [UInt8], at offset: Int64) throws(StreamError) {
    var done = 0
    while done < bytes.count {
      let position = offset + Int64(done)
      let (part, local, room) = place(position)
      let file = try descriptor(part: part)
      let count = Int(min(Int64(bytes.count - done), room))
      let n = bytes.withUnsafeBytes { pwrite(file, $0.baseAddress! + done, count, off_t(local)) }
      guard n > 0 else { throw .io(path: path, operation: "write", errno: errno) }
      done += n
    }
  }

  /// Reads back `length` bytes of member data from `offset` once the tar is finished, across its parts, to
  /// check what was written.
  public func reader(offset: Int64, length: Int64) throws(StreamError) -> any ByteReader {
    guard let partSize else { return try FileRangeReader(path: path, offset: offset, length: length) }
    return PartsRangeReader(parts: files.map { ($0, partSize) }, offset: offset, length: length)
  }

  /// Which part a byte of the tar falls in, where in it, and how many bytes the part has room for from there.
  private func place(_ position: Int64) -> (part: Int, offset: Int64, room: Int64) {
    guard let partSize else { return (0, position, .max) }
    return (Int(position / partSize), position % partSize, partSize - position % partSize)
  }

  /// Ends the archive: two zero blocks, padded to a multiple of 10240 bytes as tar does; the gaps between
  /// members' data and their padding read as zeros. Every part but the last is `partSize` bytes.
  public func finish() throws(StreamError) {
    let length = (end + 1024 + 10239) / 10240 * 10240
    let last = place(length - 1).part
    for part in 0...last {
      let size = part < last ? partSize! : length - Int64(part) * (partSize ?? 0)
      guard ftruncate(try descriptor(part: part), off_t(size)) == 0 else {
        throw .io(path: path, operation: "write", errno: errno)
      }
    }
  }

  private func addHeader(name: String, size: Int64, type: UInt8, mode: Int) throws(StreamError) {
    let nameBytes = Array(name.utf8)
    guard nameBytes.count <= 100 else {
      throw .badArchive(path: path, reason: "member name \(name) is over ustar's 100 bytes")
    }
    var header = [UInt8](repeating: 0, count: 512)
    header.replaceSubrange(0..<nameBytes.count, with: nameBytes)
    func octal(_ value: Int64, at start: Int, width: Int) {
      let digits = Array(String(value, radix: 8).utf8)
      let padded = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - digits.count) + digits
      header.replaceSubrange(start..<start + width - 1, with: padded)
    }
    octal(Int64(mode), at: 100, width: 8)
    octal(0, at: 108, width: 8)
    octal(0, at: 116, width: 8)
    if size < 0o77777777777 {
      octal(size, at: 124, width: 12)
    } else {
      header[124] = 0x80
      for i in 0..<8 { header[135 - i] = UInt8(truncatingIfNeeded: size >> (8 * i)) }
    }
    octal(0, at: 136, width: 12)
    header[156] = type
    header.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
    header.replaceSubrange(148..<156, with: [UInt8](repeating: UInt8(ascii: " "), count: 8))
    let sum = header.reduce(0) { $0 + Int64($1) }
    octal(sum, at: 148, width: 7)
    header[154] = 0
    try write(header, at: end)
    end += 512
  }
}
