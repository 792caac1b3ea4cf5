/// A SOCI zTOC: the table of contents of one gzip layer (its tar's members and where their data starts
/// uncompressed) and the checkpoints to inflate it from the middle, which lets the SOCI snapshotter fetch a
/// file of the layer without the rest. Written as the FlatBuffers document of soci-snapshotter's
/// `ztoc/fbs/ztoc.fbs`, format version 0.9.
public struct Ztoc: Sendable, Equatable {
  public static let version = "0.9"

  public var buildTool: String
  public var compressedSize: Int64
  /// Where the tar ends as the snapshotter's tools read it (`TarIndex.archiveSize`).
  public var uncompressedSize: Int64
  public var entries: [TOCEntry]
  public var checkpoints: GzipCheckpoints

  /// The FlatBuffers document. Field ids follow the schema's declaration order.
  public func encoded() -> [UInt8] {
    typealias Field = FlatBufferWriter.Field
    let metadata = entries.map { entry -> FlatBufferWriter.Object in
      let xattrs = entry.records.sorted { $0.key < $1.key }.map { record in
        FlatBufferWriter.Object.table([.string(record.key), .string(record.value)])
      }
      return .table([
        .string(entry.name), .string(entry.type), .int64(entry.dataOffset), .int64(entry.size),
        Self.text(entry.linkname), .int64(entry.mode), .uint32(entry.uid), .uint32(entry.gid),
        Self.text(entry.uname), Self.text(entry.gname), Self.text(entry.modTime), .int64(entry.devmajor),
        .int64(entry.devminor), xattrs.isEmpty ? nil : .object(.vector(xattrs)),
      ])
    }
    let compression: [Field?] = [
      nil,  // compression_algorithm: Gzip, the schema's default
      .int32(Int32(checkpoints.points.count - 1)),
      .object(.vector(checkpoints.spanDigests.map { .string($0.description) })),
      .object(.bytes(count: checkpoints.blobSize, write: checkpoints.write(to:))),
    ]
    return FlatBufferWriter.document(root: [
      .string(Self.version), .string(buildTool), .int64(compressedSize), .int64(uncompressedSize),
      .object(.table([.object(.vector(metadata))])), .object(.table(compression)),
    ])
  }

  /// An empty string is left out: readers take an absent string as empty.
  private static func text(_ value: String) -> FlatBufferWriter.Field? { value.isEmpty ? nil : .string(value) }
}

/// Builds a layer's zTOC in the pass that hashes (and, for a layer hoist compresses, compresses) it: the tar
/// is listed from the uncompressed bytes, the checkpoints come from the gzip members hoist writes or, for a
/// gzip stream written elsewhere, from inflating it once alongside.
public final class ZtocBuilder {
  private let tar = TarIndex()
  private var members: MemberCheckpoints?
  private var indexer: GzipIndexer?
  private var compressedSize: Int64 = 0
  private var failure: String?

  /// For a layer hoist compresses into gzip members of `span` input bytes each.
  public init(membersOf span: Int) { members = MemberCheckpoints(span: span) }

  /// For a gzip layer as it is, checkpoints every `span` bytes of output.
  public init(gzipSpan span: Int) { indexer = GzipIndexer(span: span) }

  /// Uncompressed input of a layer hoist compresses.
  public func readTar(_ bytes: [UInt8]) {
    guard failure == nil else { return }
    tar.add(bytes)
  }

  /// The next gzip member hoist wrote for the layer.
  public func readMember(_ bytes: [UInt8]) {
    guard failure == nil else { return }
    compressedSize += Int64(bytes.count)
    do { try members?.add(member: bytes) } catch { failure = "\(error)" }
  }

  /// The next bytes of a gzip layer written elsewhere.
  public func readGzip(_ bytes: [UInt8]) {
    guard failure == nil, let indexer else { return }
    compressedSize += Int64(bytes.count)
    failure = bytes.withUnsafeBytes { input -> String? in
      do {
        try indexer.add(input) { tar.add($0) }
        return nil
      } catch {
        return "\(error)"
      }
    }
  }

  /// The zTOC, or why the layer has none (a tar member type a zTOC cannot list, data that is not gzip).
  public func finish(buildTool: String) -> Result<Ztoc, ZtocRefusal> {
    tar.finish()
    var checkpoints: GzipCheckpoints?
    if failure == nil {
      do {
        checkpoints = try indexer?.finish() ?? members?.finish()
      } catch {
        failure = "\(error)"
      }
    }
    if let reason = failure ?? tar.problem { return .failure(ZtocRefusal(reason: reason)) }
    return .success(
      Ztoc(
        buildTool: buildTool, compressedSize: compressedSize, uncompressedSize: tar.archiveSize,
        entries: tar.entries, checkpoints: checkpoints!))
  }
}

/// Why a layer gets no zTOC.
public struct ZtocRefusal: Error, Sendable, CustomStringConvertible {
  public var reason: String
  public var description: String { reason }
}
