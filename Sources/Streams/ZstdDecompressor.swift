import CZstd

/// Streaming zstd decompression through libzstd; consecutive frames are read as one stream and skippable
/// frames (zstd:chunked's table of contents) are passed over.
public final class ZstdDecompressor: Decompressor {
  private let stream: OpaquePointer
  /// What the last call said: 0 once a frame has ended with nothing of another begun.
  private var pending = 0
  private var sawInput = false
  private let outputChunk = ZSTD_DStreamOutSize()

  public init() {
    guard let stream = ZSTD_createDStream() else { fatalError("libzstd could not allocate a stream") }
    self.stream = stream
    ZSTD_initDStream(stream)
  }

  deinit { ZSTD_freeDStream(stream) }

  public func decompress(_ input: UnsafeRawBufferPointer, into sink: ([UInt8]) throws -> Void) throws {
    guard let base = input.baseAddress, input.count > 0 else { return }
    sawInput = true
    var source = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
    while true {
      var result = 0
      let piece = [UInt8](unsafeUninitializedCapacity: outputChunk) { buffer, count in
        var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        result = ZSTD_decompressStream(stream, &target, &source)
        count = ZSTD_isError(result) == 0 ? target.pos : 0
      }
      if ZSTD_isError(result) != 0 {
        let reason = String(cString: ZSTD_getErrorName(result))
        throw StreamError.badArchive(path: "zstd stream", reason: "not valid zstd data (\(reason))")
      }
      pending = result
      if !piece.isEmpty { try sink(piece) }
      if source.pos == source.size && piece.count < outputChunk { return }
    }
  }

  public func finish(into sink: ([UInt8]) throws -> Void) throws {
    guard sawInput, pending == 0 else {
      throw StreamError.badArchive(path: "zstd stream", reason: "the data ends inside a zstd frame")
    }
  }
}
