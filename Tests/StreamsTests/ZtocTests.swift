import CZlib
import Foundation
import OCI
import Testing

@testable import Streams

/// zTOCs: the tar listing against libarchive's, the checkpoints by inflating from each one with zlib as the
/// SOCI snapshotter does, and the FlatBuffers document by reading it back field by field.
@Suite struct ZtocTests {
  /// A tar libarchive writes: a directory, a compressible file, an incompressible one, a long name.
  func tar() throws -> (bytes: [UInt8], path: String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ztoc-\(UUID().uuidString).tar").path
    let writer = try TarWriter(path: path)
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    func next() -> UInt8 {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return UInt8(truncatingIfNeeded: state)
    }
    try writer.addDirectory(name: "etc/")
    try writer.add(name: "etc/text", bytes: Array(String(repeating: "a line of text\n", count: 200_000).utf8))
    try writer.add(name: "bin/random", bytes: (0..<(3 << 20)).map { _ in next() })
    try writer.add(name: "usr/" + String(repeating: "n", count: 150) + "/file", bytes: Array("long\n".utf8))
    try writer.close()
    return (Array(try Data(contentsOf: URL(fileURLWithPath: path))), path)
  }

  @Test func theListingIsWhereLibarchiveFindsEachMember() throws {
    let (bytes, path) = try tar()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let index = TarIndex()
    for start in stride(from: 0, to: bytes.count, by: 7777) {
      index.add(Array(bytes[start..<min(start + 7777, bytes.count)]))
    }
    index.finish()
    #expect(index.problem == nil)
    // TarArchive names a directory without its slash.
    func name(_ entry: TOCEntry) -> String { entry.type == "dir" ? String(entry.name.dropLast()) : entry.name }
    let archive = try TarArchive(path: path)
    #expect(index.entries.map(name).sorted() == archive.entries.keys.sorted())
    for entry in index.entries {
      let member = try #require(archive.entries[name(entry)])
      #expect(entry.size == member.size)
      if entry.type == "reg" { #expect(entry.dataOffset == member.dataOffset) }
    }
    #expect(index.entries.first { $0.name == "etc/" }?.type == "dir")
    #expect(index.archiveSize <= Int64(bytes.count))
  }

  @Test func hoistsMembersAreCheckpointsEachSpanInflatesAlone() throws {
    let (bytes, path) = try tar()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let span = 1 << 20
    let codec = BlockGzip(level: 1, blockSize: span)
    let builder = ZtocBuilder(membersOf: span)
    var layer = [UInt8]()
    for start in stride(from: 0, to: bytes.count, by: span) {
      let block = Array(bytes[start..<min(start + span, bytes.count)])
      builder.readTar(block)
      let member = codec.compress(block)
      builder.readMember(member)
      layer += member
    }
    let ztoc = try builder.finish(buildTool: "test").get()
    #expect(ztoc.checkpoints.points.count == (bytes.count + span - 1) / span)
    #expect(ztoc.compressedSize == Int64(layer.count))
    try expectEverySpanInflates(ztoc.checkpoints, layer: layer, tar: bytes)
  }

  @Test func aGzipStreamFromElsewhereGetsZranCheckpointsWithWindowsAndBits() throws {
    let (bytes, path) = try tar()
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Two members, as mgzip writes them: a span may run from one into the other.
    let half = bytes.count / 2
    let layer = Self.zlibGzip(Array(bytes[..<half])) + Self.zlibGzip(Array(bytes[half...]))
    let builder = ZtocBuilder(gzipSpan: 256 << 10)
    for start in stride(from: 0, to: layer.count, by: 65_000) {
      builder.readGzip(Array(layer[start..<min(start + 65_000, layer.count)]))
    }
    let ztoc = try builder.finish(buildTool: "test").get()
    let points = ztoc.checkpoints.points
    #expect(points.count > 8)
    #expect(points.contains { $0.bits != 0 })
    #expect(ztoc.entries.count == 4)
    try expectEverySpanInflates(ztoc.checkpoints, layer: layer, tar: bytes)
  }

  /// Plain bytes that hardly compress, as most of a large layer's binaries do.
  static func noise(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x2545_f491_4f6c_dd1d
    var bytes = [UInt8](repeating: 0, count: count)
    for i in stride(from: 0, to: count, by: 8) {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      withUnsafeBytes(of: state) { word in
        for j in 0..<min(8, count - i) { bytes[i + j] = word[j] }
      }
    }
    return bytes
  }

  @Test(arguments: [64 << 10, 128 << 10])
  func manySmallMembersGetCheckpointsOnlyWhereTheSpanIsReached(memberSize: Int) throws {
    let tarWriter = FileManager.default.temporaryDirectory.appendingPathComponent("members-\(UUID()).tar").path
    defer { try? FileManager.default.removeItem(atPath: tarWriter) }
    let writer = try TarWriter(path: tarWriter)
    try writer.add(name: "bin/large", bytes: Self.noise(16 << 20))
    try writer.close()
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tarWriter)))
    var layer = [UInt8]()
    for start in stride(from: 0, to: bytes.count, by: memberSize) {
      layer += Self.zlibGzip(Array(bytes[start..<min(start + memberSize, bytes.count)]))
    }
    let span = SociSettings().spanSize
    let builder = ZtocBuilder(gzipSpan: span)
    for start in stride(from: 0, to: layer.count, by: 1 << 20) {
      builder.readGzip(Array(layer[start..<min(start + (1 << 20), layer.count)]))
    }
    let ztoc = try builder.finish(buildTool: "test").get()
    #expect(ztoc.checkpoints.points.count <= (bytes.count + span - 1) / span + 1)
    let size = ztoc.encoded().count
    #expect(Double(size) <= Double(layer.count) * 0.01, "zTOC \(size) bytes for a layer of \(layer.count)")
    try expectEverySpanInflates(ztoc.checkpoints, layer: layer, tar: bytes)
  }

  @Test func aLayerThatIsNotATarGetsNoZtoc() {
    let builder = ZtocBuilder(membersOf: 1 << 20)
    let block = [UInt8](repeating: 7, count: 4096)
    builder.readTar(block)
    builder.readMember(BlockGzip.fastest.compress(block))
    guard case .failure(let refusal) = builder.finish(buildTool: "test") else {
      Issue.record("a zTOC of bytes that are no tar")
      return
    }
    #expect(refusal.reason.contains("checksum"))
  }

  @Test func theDocumentReadsBackAsTheSchemaSays() throws {
    var entry = TOCEntry()
    (entry.name, entry.type, entry.dataOffset, entry.size, entry.mode) = ("a/b", "reg", 512, 3, 0o644)
    (entry.uid, entry.modTime, entry.records) = (1000, "2023-11-14T22:13:20.25Z", ["SCHILY.xattr.user.k": "v"])
    let checkpoints = GzipCheckpoints(
      span: 4 << 20,
      points: [
        GzipCheckpoint(
          compressedOffset: 10, uncompressedOffset: 0, bits: 0, window: [UInt8](repeating: 0, count: 32768))
      ],
      spanDigests: [Digest(sha256Bytes: SHA256Hasher.hash([UInt8]()))])
    let ztoc = Ztoc(
      buildTool: "hoist", compressedSize: 99, uncompressedSize: 2048, entries: [entry], checkpoints: checkpoints)
    let document = FlatDocument(bytes: ztoc.encoded())
    let root = document.root
    #expect(document.string(root, field: 0) == "0.9")
    #expect(document.string(root, field: 1) == "hoist")
    #expect(document.scalar(root, field: 2, size: 8) == 99)
    #expect(document.scalar(root, field: 3, size: 8) == 2048)
    let toc = try #require(document.table(root, field: 4))
    let files = document.vector(toc, field: 0)
    #expect(files.count == 1)
    let file = document.indirect(files[0])
    #expect(document.string(file, field: 0) == "a/b")
    #expect(document.string(file, field: 1) == "reg")
    #expect(document.scalar(file, field: 2, size: 8) == 512)
    #expect(document.scalar(file, field: 5, size: 8) == 0o644)
    #expect(document.scalar(file, field: 6, size: 4) == 1000)
    #expect(document.string(file, field: 4) == nil)
    #expect(document.string(file, field: 10) == "2023-11-14T22:13:20.25Z")
    let xattr = document.indirect(document.vector(file, field: 13)[0])
    #expect(document.string(xattr, field: 0) == "SCHILY.xattr.user.k")
    let info = try #require(document.table(root, field: 5))
    #expect(document.scalar(info, field: 0, size: 1) == nil)
    #expect(document.scalar(info, field: 1, size: 4) == 0)
    #expect(document.vector(info, field: 3, elementSize: 1).count == checkpoints.blobSize)
    #expect(checkpoints.blobSize == 12 + 17 + 32768)
  }

  /// A ustar header: `name`, type `flag`, `size` as 12 raw bytes, the checksum filled in.
  static func header(_ name: String, flag: Character, size: [UInt8], mtime: [UInt8] = Array("00000000000\0".utf8))
    -> [UInt8]
  {
    var block = [UInt8](repeating: 0, count: 512)
    block.replaceSubrange(0..<name.utf8.count, with: name.utf8)
    block.replaceSubrange(100..<108, with: Array("0000644\0".utf8))
    block.replaceSubrange(124..<136, with: size)
    block.replaceSubrange(136..<148, with: mtime)
    block[156] = UInt8(ascii: flag.unicodeScalars.first!)
    block.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
    block.replaceSubrange(148..<156, with: Array(repeating: UInt8(ascii: " "), count: 8))
    let sum = block.reduce(0) { $0 + Int($1) }
    block.replaceSubrange(148..<156, with: Array((String(sum, radix: 8).leftPadded(to: 6) + "\0 ").utf8))
    return block
  }

  @Test func sizesAndTimesAtTheEdgesAreRefusedOrBlankNeverTrapped() {
    let huge: [UInt8] = [0xff] + [UInt8](repeating: 0xff, count: 11)
    let index = TarIndex()
    index.add(Self.header("a", flag: "0", size: huge))
    #expect(index.problem?.contains("out of range") == true)
    // A PAX size at Int64's limit, then its member.
    let record = "28 size=9223372036854775807\n"
    let pax = Self.header(
      "pax", flag: "x", size: Array((String(record.utf8.count, radix: 8).leftPadded(to: 11) + "\0").utf8))
    let member = Self.header("b", flag: "0", size: Array("00000000000\0".utf8))
    let paxed = TarIndex()
    paxed.add(pax + Array(record.utf8) + [UInt8](repeating: 0, count: 512 - record.utf8.count) + member)
    #expect(paxed.problem?.contains("out of range") == true)
    // The earliest time 64 bits hold, in base-256.
    let early = TarIndex()
    early.add(
      Self.header(
        "c", flag: "5", size: Array("00000000000\0".utf8),
        mtime: [0xff, 0xff, 0xff, 0xff, 0x80] + [UInt8](repeating: 0, count: 7)))
    #expect(early.problem == nil && early.entries.first?.modTime == "")
  }

  @Test func timesAreWrittenAsGoMarshalsThemInUTC() {
    #expect(RFC3339.utc(seconds: 1_700_000_000, nanoseconds: 0) == "2023-11-14T22:13:20Z")
    #expect(RFC3339.utc(seconds: 1_700_000_000, nanoseconds: 250_000_000) == "2023-11-14T22:13:20.25Z")
    #expect(RFC3339.utc(seconds: -1, nanoseconds: 0) == "1969-12-31T23:59:59Z")
    #expect(RFC3339.utc(seconds: 0, nanoseconds: 1) == "1970-01-01T00:00:00.000000001Z")
    #expect(RFC3339.utc(seconds: 253_402_300_800, nanoseconds: 0) == "")
    #expect(TarIndex.paxTime("1700000000.25").map { [$0.0, $0.1] } == [1_700_000_000, 250_000_000])
    #expect(TarIndex.paxTime("-1.5").map { [$0.0, $0.1] } == [-2, 500_000_000])
  }

  @Test func numericFieldsInOctalAndBase256() {
    #expect(TarIndex.number(Array("0000644 \0".utf8)[...]) == 0o644)
    #expect(TarIndex.number([0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x00][...]) == 256)
    #expect(TarIndex.paxRecords(Array("16 path=a/b/cde\n".utf8)) == ["path": "a/b/cde"])
    #expect(TarIndex.paxRecords(Array("99 path=x\n".utf8)) == nil)
  }

  /// From every checkpoint, raw zlib (the leftover bits primed, the window as dictionary) inflates exactly
  /// its span, reading on across the members it holds as the snapshotter does; each span's digest matches.
  func expectEverySpanInflates(_ checkpoints: GzipCheckpoints, layer: [UInt8], tar: [UInt8]) throws {
    let points = checkpoints.points
    #expect(points.first?.uncompressedOffset == 0)
    for (i, point) in points.enumerated() {
      let end = i + 1 < points.count ? Int(points[i + 1].compressedOffset) : layer.count
      let span = Array(layer[Int(point.spanStart)..<end])
      #expect(checkpoints.spanDigests[i] == Digest(sha256Bytes: SHA256Hasher.hash(span)))
      let outEnd = i + 1 < points.count ? Int(points[i + 1].uncompressedOffset) : tar.count
      let expected = Array(tar[Int(point.uncompressedOffset)..<outEnd])
      #expect(Self.inflate(span, from: point, count: expected.count) == expected, "span \(i)")
    }
  }

  static func inflate(_ span: [UInt8], from point: GzipCheckpoint, count: Int) -> [UInt8] {
    var stream = z_stream()
    inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    defer { inflateEnd(&stream) }
    var input = span
    if point.bits != 0 {
      inflatePrime(&stream, Int32(point.bits), Int32(input[0]) >> (8 - Int32(point.bits)))
      input.removeFirst()
    }
    let window = point.window ?? [UInt8](repeating: 0, count: GzipCheckpoints.windowSize)
    _ = window.withUnsafeBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
    var output = [UInt8](repeating: 0, count: count)
    var produced = 0
    while produced < count, !input.isEmpty {
      var member = [UInt8](repeating: 0, count: count - produced)
      var used = 0
      let made = run(&stream, from: input, into: &member) { stream in
        let before = Int(stream.avail_in)
        while stream.avail_out > 0, CZlib.inflate(&stream, Z_NO_FLUSH) == Z_OK {}
        used = before - Int(stream.avail_in)
      }
      output.replaceSubrange(produced..<produced + made, with: member[..<made])
      produced += made
      // A member ended: past its 8-byte trailer and the next member's header, a fresh raw stream.
      input.removeFirst(min(used + 8, input.count))
      guard let header = MemberCheckpoints.headerLength(input) else { break }
      input.removeFirst(header)
      inflateReset(&stream)
    }
    return Array(output[..<produced])
  }

  /// Points `stream` at `input` and `output`, runs `step`; returns how many bytes of `output` it wrote.
  static func run(
    _ stream: inout z_stream, from input: [UInt8], into output: inout [UInt8], _ step: (inout z_stream) -> Void
  ) -> Int {
    var input = input
    return input.withUnsafeMutableBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        stream.next_in = source.baseAddress
        stream.avail_in = uInt(source.count)
        stream.next_out = target.baseAddress
        stream.avail_out = uInt(target.count)
        step(&stream)
        return target.count - Int(stream.avail_out)
      }
    }
  }

  /// One gzip member by zlib at level 6 (as `gzip` writes it).
  static func zlibGzip(_ data: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    deflateInit2_(
      &stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
    let written = run(&stream, from: data, into: &output) { deflate(&$0, Z_FINISH) }
    return Array(output[..<written])
  }

}

/// Reads a FlatBuffers document the way generated code does: tables through their vtables.
struct FlatDocument {
  let bytes: [UInt8]

  func read(_ position: Int, size: Int) -> UInt64 {
    (0..<size).reduce(0) { $0 | UInt64(bytes[position + $1]) << (8 * $1) }
  }

  var root: Int { Int(read(0, size: 4)) }

  /// Where a table's field is, or nil when the vtable says it is absent.
  func field(_ table: Int, _ id: Int) -> Int? {
    let vtable = table - Int(Int32(truncatingIfNeeded: read(table, size: 4)))
    guard 4 + 2 * id < Int(read(vtable, size: 2)) else { return nil }
    let offset = Int(read(vtable + 4 + 2 * id, size: 2))
    return offset == 0 ? nil : table + offset
  }

  func indirect(_ position: Int) -> Int { position + Int(read(position, size: 4)) }

  func scalar(_ table: Int, field id: Int, size: Int) -> UInt64? { field(table, id).map { read($0, size: size) } }

  func table(_ table: Int, field id: Int) -> Int? { field(table, id).map(indirect) }

  func string(_ table: Int, field id: Int) -> String? {
    guard let start = field(table, id).map(indirect) else { return nil }
    let length = Int(read(start, size: 4))
    #expect(bytes[start + 4 + length] == 0)
    return String(decoding: bytes[(start + 4)..<(start + 4 + length)], as: UTF8.self)
  }

  /// The positions of a vector's elements (4-byte offsets for tables and strings, bytes for `[ubyte]`).
  func vector(_ table: Int, field id: Int, elementSize: Int = 4) -> [Int] {
    guard let start = field(table, id).map(indirect) else { return [] }
    return (0..<Int(read(start, size: 4))).map { start + 4 + $0 * elementSize }
  }
}

extension String {
  func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
