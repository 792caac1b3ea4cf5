import CDeflate

/// Gzip compression in independent blocks: each block of input becomes one complete gzip member
/// (RFC 1952 allows a file of several; gzip, zlib, Go and Python read them as one stream). Blocks do not
/// depend on each other, so they compress on as many cores as there are, and the output is the same
/// whatever the number of threads: it depends only on the input, the block size and the level.
public struct BlockGzip: Sendable {
  /// The libdeflate compression level (1 fastest … 12 smallest).
  public let level: Int32
  /// The input bytes per gzip member.
  public let blockSize: Int

  public init(level: Int32, blockSize: Int) {
    self.level = level
    self.blockSize = blockSize
  }

  /// Names the settings, for caches that remember what a layer compressed to.
  public var key: String { "gzip-libdeflate\(level)-\(blockSize >> 10)k" }

  /// One block as a complete gzip member.
  public func compress(_ block: [UInt8]) -> [UInt8] {
    guard let compressor = libdeflate_alloc_compressor(level) else {
      fatalError("libdeflate could not allocate a compressor")
    }
    defer { libdeflate_free_compressor(compressor) }
    let bound = libdeflate_gzip_compress_bound(compressor, block.count)
    var out = [UInt8](repeating: 0, count: bound)
    let written = block.withUnsafeBytes { input in
      out.withUnsafeMutableBytes { output in
        libdeflate_gzip_compress(compressor, input.baseAddress, input.count, output.baseAddress, output.count)
      }
    }
    precondition(written > 0, "libdeflate's bound was too small")
    return Array(out[0..<written])
  }
}
