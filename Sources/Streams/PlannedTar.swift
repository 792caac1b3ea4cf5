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
public final class PlannedTar: @unchecked Sendable {
  private let descriptor: Int32
  private let path: String
  private var end: Int64 = 0

  /// Creates (or truncates) the tar file at `path`.
  public init(path: String) throws(StreamError) {
    descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
    self.path = path
  }

  deinit { close(descriptor) }

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
      let n = bytes.withUnsafeBytes {
        pwrite(descriptor, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done))
      }
      guard n > 0 else { throw .io(path: path, operation: "write", errno: errno) }
      done += n
    }
  }

  /// Ends the archive: two zero blocks, padded to a multiple of 10240 bytes as tar does; the gaps between
  /// members' data and their padding read as zeros.
  public func finish() throws(StreamError) {
    let length = (end + 1024 + 10239) / 10240 * 10240
    guard ftruncate(descriptor, off_t(length)) == 0 else { throw .io(path: path, operation: "write", errno: errno) }
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
