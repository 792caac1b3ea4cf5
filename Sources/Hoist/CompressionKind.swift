import OCI
import Streams

/// Which codec compresses the layers hoist compresses (a `docker save`'s), and at which levels.
public enum CompressionKind: String, Sendable, CaseIterable {
  case gzip
  case zstd

  /// The levels the codec takes.
  public var levels: ClosedRange<Int32> { self == .gzip ? 1...12 : 1...19 }

  /// The media type of a layer it writes, in an OCI manifest.
  public var layerMediaType: String { self == .gzip ? MediaType.ociLayerGzip : MediaType.ociLayerZstd }

  /// The codec at `level` (its default when nil), in the block size measured best for it.
  public func settings(level: Int32?) -> LayerCompression {
    switch self {
    case .gzip: .gzip(BlockGzip(level: level ?? BlockGzip.fastest.level, blockSize: BlockGzip.fastest.blockSize))
    case .zstd:
      .zstd(
        BlockZstd(
          level: level ?? LayerCompression.zstdDefaults.level, blockSize: LayerCompression.zstdDefaults.blockSize))
    }
  }

  /// Refuses a level the codec does not take.
  public func check(level: Int32?) throws(PlanError) {
    if let level, !levels.contains(level) {
      throw PlanError(
        "--compression-level for \(rawValue) must be between \(levels.lowerBound) and \(levels.upperBound)")
    }
  }
}
