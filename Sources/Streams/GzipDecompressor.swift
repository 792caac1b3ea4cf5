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
  public func decompress(_ input: UnsafeRawBufferPointer) throws(StreamError) -> [UInt8] {
    var output = [UInt8]()
    guard let base = input.baseAddress, input.count > 0 else { return output }
    stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
    stream.avail_in = uInt(input.count)
    var chunk = [UInt8](repeating: 0, count: outputChunk)
    var produced = 0
    repeat {
      if ended {
        // Another gzip member follows.
        inflateReset(&stream)
        ended = false
      }
      var status: Int32 = Z_OK
      produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(buffer.count)
        status = inflate(&stream, Z_NO_FLUSH)
        return buffer.count - Int(stream.avail_out)
      }
      output.append(contentsOf: chunk[0..<produced])
      if status == Z_STREAM_END {
        ended = true
      } else if status != Z_OK && !(status == Z_BUF_ERROR && produced > 0) {
        throw .badArchive(path: "gzip stream", reason: "not valid gzip data (zlib status \(status))")
      }
    } while stream.avail_in > 0 || (produced == outputChunk && !ended)
    stream.next_in = nil
    return output
  }
}
