import CDeflate
import CZlib

/// Streaming gzip decompression; concatenated gzip members are read as one stream.
///
/// A member that fits in memory whole (hoist's own are 1 MiB of input each) is inflated by libdeflate,
/// about three times zlib's speed; the start of such a member cut off by the end of the input is held
/// back (up to `holdLimit`) until the rest arrives. A larger member, or data libdeflate refuses, goes
/// through zlib, which streams and says what is wrong.
///
/// Asked to (`notesMemberEnds`), it notes where each member ends, so that a stream of several members can
/// be inflated again in parts, in parallel.
public final class GzipDecompressor: Decompressor {
  private var stream = z_stream()
  private let fast: OpaquePointer
  /// Whether zlib is in the middle of a member.
  private var inZlibMember = false
  /// Whether at least one member has ended and no other has begun since.
  private var ended = false
  /// Input held back: the start of a member libdeflate could not finish with the input it had.
  private var held = [UInt8]()
  private let outputChunk = 256 << 10
  /// Compressed bytes taken and plain bytes given so far, over every call.
  private var consumed: Int64 = 0
  private var produced: Int64 = 0
  /// Whether to note where members end; off by itself once `memberEndsLimit` members have ended, so that
  /// a stream of millions of empty members holds no more memory than any other.
  public var notesMemberEnds = false
  /// Where each member read so far ended, in the compressed and the plain stream; empty unless noted, and
  /// when there were too many to note.
  public private(set) var memberEnds = [GzipMemberEnd]()
  public static let memberEndsLimit = 1 << 16
  /// The most a member may inflate to for libdeflate to take it.
  static let fastOutputLimit = (1 << 20) + (64 << 10)
  /// The most input held back waiting for the rest of a member.
  static let holdLimit = 4 << 20

  public init() {
    let status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "zlib inflateInit2 failed: \(status)")
    guard let fast = libdeflate_alloc_decompressor() else { fatalError("libdeflate could not allocate") }
    self.fast = fast
  }

  deinit {
    inflateEnd(&stream)
    libdeflate_free_decompressor(fast)
  }

  /// Whether the last member's trailer has been read.
  public var isComplete: Bool { ended && held.isEmpty }

  /// Decompresses `input`, handing what it yields to `sink` a piece at a time (at most about 1 MiB), so
  /// memory stays bounded however well the data compressed. Throws on data that is not gzip.
  public func decompress(_ input: UnsafeRawBufferPointer, into sink: ([UInt8]) throws -> Void) throws {
    if held.isEmpty {
      try consume(input, last: false, sink)
    } else {
      let joined = held + input
      held = []
      try joined.withUnsafeBytes { try consume($0, last: false, sink) }
    }
  }

  /// Ends the stream: decompresses what was held back.
  public func finish(into sink: ([UInt8]) throws -> Void) throws {
    guard !held.isEmpty else { return }
    let rest = held
    held = []
    try rest.withUnsafeBytes { try consume($0, last: true, sink) }
  }

  private func consume(_ input: UnsafeRawBufferPointer, last: Bool, _ sink: ([UInt8]) throws -> Void) throws {
    guard let base = input.baseAddress else { return }
    var position = 0
    while position < input.count {
      if !inZlibMember {
        var used = 0
        var result = LIBDEFLATE_SUCCESS
        let piece = [UInt8](unsafeUninitializedCapacity: Self.fastOutputLimit) { buffer, count in
          var written = 0
          result = libdeflate_gzip_decompress_ex(
            fast, base + position, input.count - position, buffer.baseAddress, buffer.count, &used, &written)
          count = result == LIBDEFLATE_SUCCESS ? written : 0
        }
        if result == LIBDEFLATE_SUCCESS {
          ended = true
          position += used
          consumed += Int64(used)
          produced += Int64(piece.count)
          noteMemberEnd()
          if !piece.isEmpty { try sink(piece) }
          continue
        }
        if result == LIBDEFLATE_BAD_DATA && !last && input.count - position < Self.holdLimit {
          // Perhaps a member the input ends inside of: wait for the rest.
          held = Array(UnsafeRawBufferPointer(rebasing: input[position...]))
          return
        }
        inflateReset(&stream)
        inZlibMember = true
        ended = false
      }
      position += try inflateMember(UnsafeRawBufferPointer(rebasing: input[position...]), sink)
    }
  }

  private func noteMemberEnd() {
    guard notesMemberEnds else { return }
    guard memberEnds.count < Self.memberEndsLimit else {
      notesMemberEnds = false
      memberEnds = []
      return
    }
    memberEnds.append(GzipMemberEnd(compressed: consumed, plain: produced))
  }

  /// Feeds zlib until the member ends or the input does; returns the bytes it took.
  private func inflateMember(_ input: UnsafeRawBufferPointer, _ sink: ([UInt8]) throws -> Void) throws -> Int {
    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
    stream.avail_in = uInt(input.count)
    defer { stream.next_in = nil }
    while true {
      var status: Int32 = Z_OK
      let piece = [UInt8](unsafeUninitializedCapacity: outputChunk) { buffer, count in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(buffer.count)
        status = inflate(&stream, Z_NO_FLUSH)
        count = buffer.count - Int(stream.avail_out)
      }
      produced += Int64(piece.count)
      if !piece.isEmpty { try sink(piece) }
      if status == Z_STREAM_END {
        inZlibMember = false
        ended = true
        let taken = input.count - Int(stream.avail_in)
        consumed += Int64(taken)
        noteMemberEnd()
        return taken
      }
      guard status == Z_OK || (status == Z_BUF_ERROR && (stream.avail_in == 0 || !piece.isEmpty)) else {
        throw StreamError.badArchive(path: "gzip stream", reason: "not valid gzip data (zlib status \(status))")
      }
      if stream.avail_in == 0 && piece.count < outputChunk {
        consumed += Int64(input.count)
        return input.count
      }
    }
  }
}

/// Where a gzip member ends: bytes from the start of the compressed stream, and of the plain one.
public struct GzipMemberEnd: Sendable, Equatable {
  public var compressed: Int64
  public var plain: Int64

  public init(compressed: Int64, plain: Int64) {
    self.compressed = compressed
    self.plain = plain
  }
}
