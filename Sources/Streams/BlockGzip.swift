import CDeflate

/// Gzip compression in independent blocks: each block of input becomes one complete gzip member
/// (RFC 1952 allows a file of several; gzip, zlib, Go and Python read them as one stream). Blocks do not
/// depend on each other, so they compress on as many cores as there are, and the output is the same
/// whatever the number of threads: it depends only on the input, the block size and the level.
///
/// A block that does not compress (random data, media, archives already compressed) is stored: three
/// samples of it are tried first, and when none shrinks by 3 %, the block goes out as stored deflate
/// blocks at memory speed instead of being searched for matches that are not there.
public struct BlockGzip: Sendable {
  /// The libdeflate compression level (1 fastest … 12 smallest).
  public let level: Int32
  /// The input bytes per gzip member.
  public let blockSize: Int

  public init(level: Int32, blockSize: Int) {
    self.level = level
    self.blockSize = blockSize
  }

  /// libdeflate level 1 in 1 MiB members: hoist's default (measured against zlib and other levels in the
  /// README).
  public static let fastest = BlockGzip(level: 1, blockSize: 1 << 20)

  /// Names the settings, for caches that remember what a layer compressed to.
  public var key: String { "gzip-libdeflate\(level)-\(blockSize >> 10)k-stored" }

  /// The bytes each sample holds, and the share of them a sample must save to count as compressible.
  static let sampleSize = 16 << 10
  static let sampleLimit = sampleSize * 97 / 100

  /// One block as a complete gzip member.
  public func compress(_ block: [UInt8]) -> [UInt8] {
    let level = Self.compressible(block) ? level : 0
    guard let compressor = libdeflate_alloc_compressor(level) else {
      fatalError("libdeflate could not allocate a compressor")
    }
    defer { libdeflate_free_compressor(compressor) }
    let bound = libdeflate_gzip_compress_bound(compressor, block.count)
    return [UInt8](unsafeUninitializedCapacity: bound) { output, count in
      count = block.withUnsafeBytes { input in
        libdeflate_gzip_compress(compressor, input.baseAddress, input.count, output.baseAddress, output.count)
      }
      precondition(count > 0, "libdeflate's bound was too small")
    }
  }

  /// Whether any of three samples (start, middle, end) shrinks: a fast level-1 deflate into a buffer 3 %
  /// smaller than the sample fails when it does not.
  static func compressible(_ block: [UInt8]) -> Bool {
    guard block.count >= 4 * sampleSize, let compressor = libdeflate_alloc_compressor(1) else { return true }
    defer { libdeflate_free_compressor(compressor) }
    var scratch = [UInt8](repeating: 0, count: sampleLimit)
    return block.withUnsafeBytes { input in
      [0, (block.count - sampleSize) / 2, block.count - sampleSize].contains { start in
        scratch.withUnsafeMutableBytes { output in
          libdeflate_deflate_compress(
            compressor, input.baseAddress! + start, sampleSize, output.baseAddress, output.count) > 0
        }
      }
    }
  }
}
