import OCI
import Streams
import Transfer

extension CopyOptions {
  /// `--soci`: a SOCI index for each image, and the layers hoist compresses written in gzip members of the
  /// span, so that each member boundary is a checkpoint (`MemberCheckpoints`).
  mutating func building(_ soci: SociSettings?) {
    guard let soci else { return }
    self.soci = soci
    if case .gzip(let codec) = compression {
      compression = .gzip(BlockGzip(level: codec.level, blockSize: soci.spanSize))
    }
  }
}
