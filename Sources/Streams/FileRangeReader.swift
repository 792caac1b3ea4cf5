#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a byte range of a file with `pread`, so many readers can share one file without seeking.
public final class FileRangeReader: @unchecked Sendable {
  private let descriptor: Int32
  private let path: String
  private var position: Int64
  private let end: Int64

  /// Opens `path` and limits reading to `length` bytes from `offset` (to the end when `length` is nil).
  public init(path: String, offset: Int64 = 0, length: Int64? = nil) throws(StreamError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      close(fd)
      throw .io(path: path, operation: "stat", errno: code)
    }
    let fileSize = Int64(info.st_size)
    self.descriptor = fd
    self.path = path
    self.position = offset
    self.end = length.map { offset + $0 } ?? fileSize
    if end > fileSize {
      close(fd)
      throw .badArchive(path: path, reason: "the file is truncated (\(fileSize) bytes, \(end) needed)")
    }
  }

  deinit { close(descriptor) }

  /// Bytes left to read.
  public var remaining: Int64 { end - position }

  /// Reads up to `maxLength` bytes; an empty array means the range is exhausted.
  public func read(maxLength: Int) throws(StreamError) -> [UInt8] {
    let wanted = Int(min(Int64(maxLength), remaining))
    guard wanted > 0 else { return [] }
    var failure: StreamError?
    let buffer = [UInt8](unsafeUninitializedCapacity: wanted) { raw, count in
      var filled = 0
      while filled < wanted {
        let n = pread(descriptor, raw.baseAddress! + filled, wanted - filled, off_t(position) + off_t(filled))
        if n < 0 {
          if errno == EINTR { continue }
          failure = .io(path: path, operation: "read", errno: errno)
          break
        }
        if n == 0 {
          failure = .badArchive(path: path, reason: "the file ended early (it changed while being read?)")
          break
        }
        filled += n
      }
      count = filled
    }
    if let failure { throw failure }
    position += Int64(wanted)
    return buffer
  }
}
