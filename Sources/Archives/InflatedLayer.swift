import OCI
import Streams

/// A layer a docker archive holds uncompressed: the compressed blob it is inflated from, its plain size,
/// and the parts it is inflated in. `predicted`: the size and parts were read from the gzip members'
/// headers and trailers (`GzipMemberPrediction`), not found by inflating, so writing it checks them and
/// its diffID; otherwise the layer was inflated and checked once already.
struct InflatedLayer: Sendable {
  var compressed: String
  var layer: Descriptor
  var diffID: Digest
  var size: Int64
  var parts: [LayerPart]
  var predicted: Bool
}

/// The plain bytes of a predicted layer were not where its prediction put them: the archive is laid out
/// again from sizes found by inflating.
struct LayerMisprediction: Error {}

/// A run of whole gzip members of a layer: where its bytes lie in the compressed blob and in the plain tar.
/// A layer of many members (hoist writes members of 1 MiB) is inflated into the archive in parts, in
/// parallel, whatever the sizes of its layers; a layer of one member is one part.
struct LayerPart: Sendable, Equatable {
  var compressed: Range<Int64>
  var plain: Range<Int64>

  /// The least plain bytes in a part: enough that a part's start-up is nothing beside its work.
  static let minimumPlainSize: Int64 = 32 << 20

  /// Cuts a layer at member ends into parts of at least `minimum` plain bytes (the last takes the rest);
  /// none when the layer makes one part or its ends are not known: it is inflated whole.
  static func split(_ memberEnds: [GzipMemberEnd], size: Int64, minimum: Int64 = minimumPlainSize) -> [LayerPart] {
    guard let last = memberEnds.last, last.plain == size else { return [] }
    var parts = [LayerPart]()
    var start = GzipMemberEnd(compressed: 0, plain: 0)
    for end in memberEnds where end.plain - start.plain >= minimum && size - end.plain >= minimum {
      parts.append(LayerPart(compressed: start.compressed..<end.compressed, plain: start.plain..<end.plain))
      start = end
    }
    parts.append(LayerPart(compressed: start.compressed..<last.compressed, plain: start.plain..<size))
    return parts.count > 1 ? parts : []
  }
}
