import CZstd
import Foundation

/// zstd compression in independent blocks: each block of input becomes one complete zstd frame (a zstd
/// stream may hold several; libzstd, Go's klauspost/compress in containerd and Docker, and podman read them
/// as one). As with `BlockGzip`, blocks compress on as many cores as there are and the output depends only on
/// the input, the block size, the level and libzstd's version, which the cache key names.
public struct BlockZstd: Sendable {
  /// The zstd level (1 fastest … 19 smallest).
  public let level: Int32
  /// The input bytes per frame.
  public let blockSize: Int

  public init(level: Int32, blockSize: Int) {
    self.level = level
    self.blockSize = blockSize
  }

  /// Names the settings, for caches that remember what a layer compressed to.
  public var key: String { "zstd\(level)-\(blockSize >> 10)k-v\(ZSTD_versionNumber())" }

  /// One block as a complete zstd frame (its content size recorded, no checksum: the digest checks it).
  public func compress(_ block: [UInt8]) -> [UInt8] {
    let context = Self.contexts.take()
    defer { Self.contexts.give(context) }
    ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters)
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 0)
    let bound = ZSTD_compressBound(block.count)
    return [UInt8](unsafeUninitializedCapacity: bound) { output, count in
      let written = block.withUnsafeBytes { input in
        ZSTD_compress2(context, output.baseAddress, output.count, input.baseAddress, input.count)
      }
      precondition(ZSTD_isError(written) == 0, "libzstd failed within its own bound")
      count = written
    }
  }

  /// Compression contexts kept between blocks: each holds a level's tables, costly to set up per block.
  static let contexts = ContextPool()

  /// A lock-guarded stack of libzstd contexts; at most as many exist as blocks ever compressed at once.
  final class ContextPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free = [OpaquePointer]()

    func take() -> OpaquePointer {
      lock.lock()
      defer { lock.unlock() }
      if let context = free.popLast() { return context }
      guard let context = ZSTD_createCCtx() else { fatalError("libzstd could not allocate a context") }
      return context
    }

    func give(_ context: OpaquePointer) {
      lock.lock()
      free.append(context)
      lock.unlock()
    }
  }
}

/// How hoist compresses the layers it compresses: gzip (every registry and runtime reads it) or zstd
/// (smaller and faster; containerd 1.5+, Docker 23+, podman, ECR and distribution take it).
public enum LayerCompression: Sendable {
  case gzip(BlockGzip)
  case zstd(BlockZstd)

  /// gzip as `BlockGzip.fastest` makes it.
  public static let defaultGzip = LayerCompression.gzip(.fastest)
  /// The zstd level and frame size the README's measurements chose.
  public static let zstdDefaults = (level: Int32(2), blockSize: 1 << 20)

  /// The input bytes per independently compressed block.
  public var blockSize: Int {
    switch self {
    case .gzip(let codec): codec.blockSize
    case .zstd(let codec): codec.blockSize
    }
  }

  /// Names the settings, for caches that remember what a layer compressed to.
  public var key: String {
    switch self {
    case .gzip(let codec): codec.key
    case .zstd(let codec): codec.key
    }
  }

  /// Whether layers come out as zstd.
  public var isZstd: Bool {
    if case .zstd = self { return true }
    return false
  }

  /// One block, compressed, in an array no larger than it: the codecs write into their worst-case bound,
  /// and a block waiting to be sent would otherwise hold that whole bound (twice its size, for text).
  public func compress(_ block: [UInt8]) -> [UInt8] {
    let output =
      switch self {
      case .gzip(let codec): codec.compress(block)
      case .zstd(let codec): codec.compress(block)
      }
    guard output.capacity - output.count > 64 << 10 else { return output }
    return [UInt8](unsafeUninitializedCapacity: output.count) { buffer, count in
      count = output.withUnsafeBufferPointer { buffer.initialize(fromContentsOf: $0) }
    }
  }
}
