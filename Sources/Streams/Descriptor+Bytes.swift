import Foundation
import OCI

extension Descriptor {
  /// The descriptor of a document or blob held in memory: its digest and size are those of `bytes`.
  public init(mediaType: String, describing bytes: Data) {
    self.init(mediaType: mediaType, digest: Digest(sha256Bytes: SHA256Hasher.hash(bytes)), size: Int64(bytes.count))
  }
}
