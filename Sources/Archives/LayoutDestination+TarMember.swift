import Foundation
import OCI
import Streams

/// What fills each member of a docker archive's tar as `writeTar` lays it out.
extension LayoutDestination {
  /// Where a blob in the tar comes from: a file of the staging layout, or a compressed layer to inflate
  /// (whole, or one of its parts); or the check of a predicted layer written in parts.
  enum Member: Sendable {
    case file(String)
    case inflated(InflatedLayer, part: LayerPart?)
    case check(InflatedLayer)

    func size() throws -> Int64 {
      switch self {
      case .file(let file):
        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
      case .inflated(let plain, _), .check(let plain): plain.size
      }
    }

    /// The pieces of work writing the member takes: an inflated layer's parts, or the member whole.
    var pieces: [Member] {
      guard case .inflated(let plain, nil) = self, plain.parts.count > 1 else { return [self] }
      return plain.parts.map { .inflated(plain, part: $0) }
    }

    /// Writes the member's data (or, for a part, its share) into the tar, whose data for it starts at
    /// `offset`. For a predicted layer, any difference from the prediction (and any failure: the
    /// prediction may have cut a member in two) is a `LayerMisprediction`.
    func write(into tar: PlannedTar, at offset: Int64, archive: String) throws {
      switch self {
      case .file(let file):
        let reader = try FileRangeReader(path: file)
        var at = offset
        while case let chunk = try reader.read(maxLength: IOSize.preferred), !chunk.isEmpty {
          try tar.write(chunk, at: at)
          at += Int64(chunk.count)
        }
      case .inflated(let plain, let part):
        do {
          try Self.inflate(plain, part: part, into: tar, at: offset, archive: archive)
        } catch  where plain.predicted {
          throw LayerMisprediction()
        }
      case .check(let plain):
        let hasher = SHA256Hasher()
        let reader = try tar.reader(offset: offset, length: plain.size)
        while case let chunk = try reader.read(maxLength: IOSize.preferred), !chunk.isEmpty { hasher.update(chunk) }
        guard Digest(sha256Bytes: hasher.finalize()) == plain.diffID else { throw LayerMisprediction() }
      }
    }

    /// Inflates a layer, or a part of it, to its place in the tar; a predicted layer written whole is
    /// checked against its diffID on the way.
    private static func inflate(
      _ plain: InflatedLayer, part: LayerPart?, into tar: PlannedTar, at offset: Int64, archive: String
    ) throws {
      let (start, end) = (offset + (part?.plain.lowerBound ?? 0), offset + (part?.plain.upperBound ?? plain.size))
      let hasher = plain.predicted && part == nil ? SHA256Hasher() : nil
      var at = start
      let mismatch = ArchiveError.invalid(
        path: archive,
        reason: "layer \(plain.layer.digest) inflated to \(plain.size) bytes when checked and to another size when "
          + "written: its staged copy changed meanwhile; pull again")
      let (written, _) = try LayoutDestination.inflate(
        plain.compressed, range: part?.compressed, archive: archive, layer: plain.layer, expecting: nil
      ) {
        // Never past the member (or the part): the next one follows.
        guard at + Int64($0.count) <= end else { throw mismatch }
        hasher?.update($0)
        try tar.write($0, at: at)
        at += Int64($0.count)
      }
      guard start + written == end else { throw mismatch }
      if let hasher, Digest(sha256Bytes: hasher.finalize()) != plain.diffID { throw LayerMisprediction() }
    }
  }
}
