#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where the members of a gzip file most likely end and what each inflates to, read from the compressed
/// bytes alone, without inflating them: a member starts where a gzip header stands, and the last four bytes
/// before the next one (its trailer's ISIZE) give its plain size.
///
/// Only a prediction: a header's ten bytes can stand inside deflate data (a stored block of an embedded
/// `.gz` file), and ISIZE counts modulo 4 GiB. Whoever lays plain bytes out by it must check them as they
/// are inflated and start over when they differ (a docker archive's layers do, `LayoutDestination`).
public enum GzipMemberPrediction {
  /// The members of the gzip file at `path`, as the ends `GzipDecompressor` would note, with the plain size;
  /// nil when the file does not start with a gzip header, when a member's size cannot be right for its
  /// compressed length (a member over 4 GiB), or when there are more than `limit` members.
  public static func predict(path: String, limit: Int = GzipDecompressor.memberEndsLimit) throws(StreamError)
    -> (size: Int64, memberEnds: [GzipMemberEnd])?
  {
    let reader = try FileRangeReader(path: path)
    let length = reader.remaining
    var ends = [GzipMemberEnd]()
    var plain: Int64 = 0
    /// Ends the member that started at the last end (or 0) at `at` when `size` (the four bytes before) is a
    /// size it could inflate to; a header inside deflate data mostly follows bytes that are not.
    func end(at: Int64, size: UInt32) {
      guard plausible(compressed: at - (ends.last?.compressed ?? 0), plain: Int64(size)) else { return }
      plain += Int64(size)
      ends.append(GzipMemberEnd(compressed: at, plain: plain))
    }
    // Each window starts with the last 13 bytes of the one before: four before a header and its ten.
    var window = [UInt8]()
    var windowStart: Int64 = 0
    var next: Int64 = 4
    while case let chunk = try reader.read(maxLength: IOSize.preferred), !chunk.isEmpty {
      let kept = window.suffix(13)
      windowStart += Int64(window.count - kept.count)
      window = Array(kept) + chunk
      if windowStart == 0 && !isHeader(window, at: 0) { return nil }
      window.withUnsafeBytes { bytes in
        var index = Int(next - windowStart)
        while index + 10 <= bytes.count, ends.count < limit,
          let found = memchr(bytes.baseAddress! + index, 0x1f, bytes.count - 9 - index)
        {
          index = UnsafeRawPointer(found) - bytes.baseAddress!
          if isHeader(bytes, at: index) {
            end(at: windowStart + Int64(index), size: littleEndian(bytes, at: index - 4))
          }
          index += 1
        }
        next = Int64(max(index, bytes.count - 9)) + windowStart
      }
      if ends.count >= limit { return nil }
    }
    guard length >= 20 else { return nil }
    end(at: length, size: littleEndian(window, at: window.count - 4))
    guard ends.last?.compressed == length else { return nil }
    return (plain, ends)
  }

  /// Whether a gzip header stands at `index`: the magic, deflate, no reserved flag, extra flags of a
  /// deflate level (0, 2, 4) and an operating system RFC 1952 names.
  static func isHeader(_ bytes: some RandomAccessCollection<UInt8>, at index: Int) -> Bool {
    guard index >= 0, bytes.count >= index + 10 else { return false }
    func byte(_ offset: Int) -> UInt8 { bytes[bytes.index(bytes.startIndex, offsetBy: index + offset)] }
    let os = byte(9)
    return byte(0) == 0x1f && byte(1) == 0x8b && byte(2) == 8 && byte(3) & 0xe0 == 0
      && [0, 2, 4].contains(byte(8)) && (os <= 13 || os == 255)
  }

  /// Whether a member of `compressed` bytes can inflate to `plain`: deflate stores what it cannot shrink
  /// (five bytes more per 64 KiB) and shrinks at most 1032 times; a gzip member adds 18 bytes, and up to
  /// about 1 KiB more with a file name or extra field in its header.
  static func plausible(compressed: Int64, plain: Int64) -> Bool {
    compressed >= 20 && compressed <= plain + plain / 100 + 1024 && plain <= (compressed - 18) * 1032 + 1024
  }

  private static func littleEndian(_ bytes: some RandomAccessCollection<UInt8>, at index: Int) -> UInt32 {
    (0..<4).reduce(0) { value, i in
      value | UInt32(bytes[bytes.index(bytes.startIndex, offsetBy: index + i)]) << (8 * i)
    }
  }
}
