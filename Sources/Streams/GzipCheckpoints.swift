import OCI

/// A place to start inflating a gzip stream from, as zlib's `zran.c` takes them and a SOCI zTOC stores
/// them: the compressed offset where a deflate block starts, the uncompressed offset it produces from, how
/// many bits of the byte before `compressedOffset` belong to the block, and the 32 KiB of output before it.
public struct GzipCheckpoint: Sendable, Equatable {
  public var compressedOffset: Int64
  public var uncompressedOffset: Int64
  public var bits: UInt8
  /// The last `GzipCheckpoints.windowSize` bytes of output before the checkpoint, oldest first (zeros where
  /// there were none); nil where no output before it is needed (a gzip member's start), written as zeros.
  public var window: [UInt8]?

  /// Where a span starting here begins in the compressed stream: the byte holding `bits` belongs to it.
  public var spanStart: Int64 { compressedOffset - (bits == 0 ? 0 : 1) }
}

/// A gzip stream's checkpoints, one per span, and the SHA-256 of each span's compressed bytes: what a zTOC's
/// compression info holds.
public struct GzipCheckpoints: Sendable, Equatable {
  /// The deflate window, which every checkpoint carries.
  public static let windowSize = 32 << 10

  /// The uncompressed bytes the spans were asked to hold.
  public var span: Int64
  public var points: [GzipCheckpoint]
  /// The digest of each span's compressed bytes: from its checkpoint's `spanStart` to the next
  /// checkpoint's `compressedOffset` (the last span: to the end of the stream).
  public var spanDigests: [Digest]

  /// The size of `write(to:)`'s blob.
  public var blobSize: Int { 12 + points.count * (17 + Self.windowSize) }

  /// Appends the checkpoints as soci-snapshotter's zinfo blob (version 2): the count (u32) and span (u64),
  /// then per checkpoint its compressed and uncompressed offsets (u64), bits (u8) and window, all
  /// little-endian.
  public func write(to bytes: inout [UInt8]) {
    Self.append(UInt64(points.count), size: 4, to: &bytes)
    Self.append(UInt64(span), size: 8, to: &bytes)
    for point in points {
      Self.append(UInt64(point.compressedOffset), size: 8, to: &bytes)
      Self.append(UInt64(point.uncompressedOffset), size: 8, to: &bytes)
      bytes.append(point.bits)
      if let window = point.window {
        bytes += window
      } else {
        bytes += repeatElement(0, count: Self.windowSize)
      }
    }
  }

  private static func append(_ value: UInt64, size: Int, to bytes: inout [UInt8]) {
    for shift in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
  }
}

/// Hashes a compressed stream span by span as it passes.
struct SpanHashes {
  private var current: SHA256Hasher?
  private(set) var digests = [Digest]()

  /// Ends the current span (if any) where the stream has got to and starts the next, with `priming` (the
  /// byte holding a checkpoint's first bits) as its first byte.
  mutating func startSpan(priming: UInt8?) {
    endSpan()
    let hasher = SHA256Hasher()
    if let priming { hasher.update([priming]) }
    current = hasher
  }

  mutating func add(_ bytes: UnsafeRawBufferPointer) { current?.update(bytes) }

  /// Ends the last span; returns every span's digest.
  mutating func finish() -> [Digest] {
    endSpan()
    return digests
  }

  private mutating func endSpan() {
    guard let hasher = current else { return }
    digests.append(Digest(sha256Bytes: hasher.finalize()))
    current = nil
  }
}

/// Checkpoints of a gzip stream hoist writes itself, one member per span (`BlockGzip` with a block size of
/// the span): each member starts a fresh deflate stream, so its first block is a checkpoint needing no
/// window and no bits, and a reader inflating one span never crosses into another member (readers before
/// 2026 stop at a member's end).
public struct MemberCheckpoints {
  public let span: Int64
  private var points = [GzipCheckpoint]()
  private var hashes = SpanHashes()
  private var compressedSize: Int64 = 0

  public init(span: Int) { self.span = Int64(span) }

  /// Takes the next member, which holds `span` bytes of input unless it is the last.
  public mutating func add(member bytes: [UInt8]) throws(StreamError) {
    guard let header = Self.headerLength(bytes) else {
      throw .badArchive(path: "gzip member", reason: "not a gzip member hoist wrote")
    }
    bytes.withUnsafeBytes { all in
      hashes.add(UnsafeRawBufferPointer(rebasing: all[..<header]))
      points.append(
        GzipCheckpoint(
          compressedOffset: compressedSize + Int64(header), uncompressedOffset: Int64(points.count) * span, bits: 0,
          window: nil))
      hashes.startSpan(priming: nil)
      hashes.add(UnsafeRawBufferPointer(rebasing: all[header...]))
    }
    compressedSize += Int64(bytes.count)
  }

  public mutating func finish() -> GzipCheckpoints {
    GzipCheckpoints(span: span, points: points, spanDigests: hashes.finish())
  }

  /// The length of a gzip member's header (RFC 1952: 10 bytes, then the optional fields its flags name).
  static func headerLength(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b, bytes[2] == 8 else { return nil }
    let flags = bytes[3]
    var length = 10
    if flags & 4 != 0 {
      guard bytes.count >= length + 2 else { return nil }
      length += 2 + Int(bytes[length]) + Int(bytes[length + 1]) << 8
    }
    for flag: UInt8 in [8, 16] where flags & flag != 0 {
      guard let end = bytes[min(length, bytes.count)...].firstIndex(of: 0) else { return nil }
      length = end + 1
    }
    if flags & 2 != 0 { length += 2 }
    return length <= bytes.count ? length : nil
  }
}
