import CZlib

/// Streaming gzip decompression through zlib; concatenated gzip members are read as one stream.
public final class GzipDecompressor {
  private var stream = z_stream()
  private var ended = false
  private let outputChunk = 256 << 10

  public init() {
    let status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "zlib inflateInit2 failed: \(status)")
  }

  deinit { inflateEnd(&stream) }

  /// Whether the last member's trailer has been read.
  public var isComplete: Bool { ended }

  /// Decompresses `input`; returns the bytes it yields. Throws on data that is not gzip.
  public func decompress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
    var output = [UInt8]()
    try decompress(input) { output += $0 }
    return output
  }

  /// Decompresses `input`, handing what it yields to `sink` a piece of at most 256 KiB at a time, so memory
  /// stays bounded however well the data compressed. Throws on data that is not gzip.
  public func decompress(_ input: UnsafeRawBufferPointer, into sink: ([UInt8]) throws -> Void) throws {
    guard let base = input.baseAddress, input.count > 0 else { return }
    stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
    stream.avail_in = uInt(input.count)
    defer { stream.next_in = nil }
    var produced = 0
    repeat {
      if ended {
        // Another gzip member follows.
        inflateReset(&stream)
        ended = false
      }
      var status: Int32 = Z_OK
      let piece = [UInt8](unsafeUninitializedCapacity: outputChunk) { buffer, count in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(buffer.count)
        status = inflate(&stream, Z_NO_FLUSH)
        count = buffer.count - Int(stream.avail_out)
      }
      produced = piece.count
      if status == Z_STREAM_END {
        ended = true
      } else if status != Z_OK && !(status == Z_BUF_ERROR && produced > 0) {
        throw StreamError.badArchive(path: "gzip stream", reason: "not valid gzip data (zlib status \(status))")
      }
      if produced > 0 { try sink(piece) }
    } while stream.avail_in > 0 || (produced == outputChunk && !ended)
  }
}
