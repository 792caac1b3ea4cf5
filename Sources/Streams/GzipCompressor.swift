import CZlib

/// Streaming gzip compression through zlib, with a fixed header (no name, no time) so that
/// the same input and level give the same bytes on every run.
public final class GzipCompressor {
  private var stream = z_stream()
  private var finished = false
  /// The zlib compression level, 1 (fastest) to 9 (smallest).
  public let level: Int32
  private let outputChunk = 256 << 10

  public init(level: Int32) {
    self.level = level
    let status = deflateInit2_(
      &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "zlib deflateInit2 failed: \(status)")
  }

  deinit { deflateEnd(&stream) }

  /// Compresses `input` and returns whatever compressed bytes are ready.
  public func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
    run(input, flush: Z_NO_FLUSH)
  }

  /// Flushes the rest of the stream and its gzip trailer.
  public func finish() -> [UInt8] {
    precondition(!finished, "finish called twice")
    finished = true
    return run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
  }

  private func run(_ input: UnsafeRawBufferPointer, flush: Int32) -> [UInt8] {
    var output = [UInt8]()
    let base = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
    stream.next_in = base
    stream.avail_in = uInt(input.count)
    var chunk = [UInt8](repeating: 0, count: outputChunk)
    while true {
      let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(buffer.count)
        let status = deflate(&stream, flush)
        precondition(status != Z_STREAM_ERROR, "zlib deflate stream error")
        return buffer.count - Int(stream.avail_out)
      }
      output.append(contentsOf: chunk[0..<produced])
      if flush == Z_FINISH {
        if produced < outputChunk { break }
      } else if stream.avail_in == 0 && produced < outputChunk {
        break
      }
    }
    stream.next_in = nil
    return output
  }
}
