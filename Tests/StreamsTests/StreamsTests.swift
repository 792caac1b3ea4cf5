import CZstd
import Foundation
import Testing

@testable import Streams

@Suite struct SHA256Tests {
  @Test func knownVectors() {
    #expect(hex(SHA256Hasher.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    let hasher = SHA256Hasher()
    hasher.update(Array("ab".utf8))
    hasher.update(Array("c".utf8))
    #expect(hex(hasher.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }
}

@Suite struct TarArchiveTests {
  @Test func indexesMembersWithOffsetsAndFollowsLinks() throws {
    let folder = try temporaryFolder()
    let payload = Array(repeating: UInt8(ascii: "x"), count: 1000)
    try makeTar(
      at: folder + "/a.tar",
      members: [("dir/", nil), ("dir/file.bin", Data(payload)), ("link.bin", nil)],
      symlink: ("link.bin", "dir/file.bin"), in: folder)
    let archive = try TarArchive(path: folder + "/a.tar")
    #expect(!archive.isCompressed)
    let entry = try #require(try archive.resolve("link.bin"))
    #expect(entry.name == "dir/file.bin")
    #expect(entry.dataOffset != nil)
    #expect(try archive.read("./link.bin", limit: 4096) == payload)
    #expect(throws: StreamError.self) { try archive.read("dir/file.bin", limit: 10) }
  }

  @Test func readsGzipCompressedArchivesAndOurOwnBlockGzip() throws {
    let folder = try temporaryFolder()
    let payload = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
    try makeTar(at: folder + "/b.tar", members: [("one.bin", payload)], symlink: nil, in: folder)
    let plain = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/b.tar")))
    let gzip = BlockGzip(level: 2, blockSize: 4096)
    let blocks = stride(from: 0, to: plain.count, by: gzip.blockSize).map {
      gzip.compress(Array(plain[$0..<min($0 + gzip.blockSize, plain.count)]))
    }
    #expect(blocks.count > 1 && blocks.allSatisfy { $0.starts(with: [0x1f, 0x8b]) })
    let gzipped = blocks.flatMap { $0 }
    try Data(gzipped).write(to: URL(fileURLWithPath: folder + "/b.tar.gz"))
    let archive = try TarArchive(path: folder + "/b.tar.gz")
    #expect(archive.isCompressed)
    #expect(try archive.read("one.bin", limit: 1 << 20) == Array(payload))
    let decompressor = GzipDecompressor()
    #expect(try gzipped.withUnsafeBytes { try decompressor.decompress($0) } == plain)
    #expect(decompressor.isComplete)
    #expect(gzip.compress(Array(plain.prefix(4096))) == blocks[0])
  }

  @Test func storesBlocksThatDoNotCompress() throws {
    var generator = SystemRandomNumberGenerator()
    let noise = (0..<(256 << 10)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let text = Array(String(repeating: "layer digest registry upload ", count: 9000).utf8)
    let gzip = BlockGzip(level: 1, blockSize: 1 << 20)
    #expect(!BlockGzip.compressible(noise) && BlockGzip.compressible(text))
    let stored = gzip.compress(noise)
    #expect(stored.count > noise.count && stored.count < noise.count + 256)
    #expect(gzip.compress(text).count < text.count / 10)
    let decompressor = GzipDecompressor()
    #expect(try stored.withUnsafeBytes { try decompressor.decompress($0) } == noise)
    // Half noise, half text: the text's sample keeps the block compressed.
    #expect(BlockGzip.compressible(Array(noise.prefix(text.count)) + text))
  }

  @Test func decompressesMembersOfAnySizeFedInAnyPieces() throws {
    var generator = SystemRandomNumberGenerator()
    let words = ["layer ", "digest ", "registry ", "upload ", "manifest "]
    let plain = Array((0..<400_000).map { _ in words.randomElement(using: &generator)! }.joined().utf8)
    for blockSize in [1 << 20, 4 << 20] {  // libdeflate's members, and members only zlib takes
      let gzip = BlockGzip(level: 1, blockSize: blockSize)
      let compressed = stride(from: 0, to: plain.count, by: blockSize).flatMap {
        gzip.compress(Array(plain[$0..<min($0 + blockSize, plain.count)]))
      }
      for piece in [1000, 300_000, 1 << 20] {
        let decompressor = GzipDecompressor()
        var out = [UInt8]()
        for start in stride(from: 0, to: compressed.count, by: piece) {
          try Array(compressed[start..<min(start + piece, compressed.count)]).withUnsafeBytes {
            try decompressor.decompress($0) { out += $0 }
          }
        }
        try decompressor.finish { out += $0 }
        #expect(out == plain && decompressor.isComplete, "blocks of \(blockSize), pieces of \(piece)")
      }
      var broken = compressed
      broken[broken.count / 2] ^= 0xff
      #expect(throws: (any Error).self) { try broken.withUnsafeBytes { try GzipDecompressor().decompress($0) } }
    }
  }

  @Test func blockZstdFramesReadAsOneStreamAndDependOnlyOnTheInput() throws {
    let input = (0..<300_000).map { UInt8(truncatingIfNeeded: ($0 / 7) &* 31) }
    let zstd = BlockZstd(level: 3, blockSize: 64 << 10)
    func compressed() -> [UInt8] {
      stride(from: 0, to: input.count, by: zstd.blockSize).flatMap {
        zstd.compress(Array(input[$0..<min($0 + zstd.blockSize, input.count)]))
      }
    }
    let frames = compressed()
    #expect(frames.count < input.count / 4)
    #expect(Compression(magic: Array(frames.prefix(4))) == .zstd)
    #expect(try frames.withUnsafeBytes { try ZstdDecompressor().decompress($0) } == input)
    #expect(compressed() == frames)
    #expect(LayerCompression.zstd(zstd).key != LayerCompression.defaultGzip.key)
  }

  @Test func aPlannedTarTakesItsDataInAnyOrderAndReadsAsATar() throws {
    let folder = try temporaryFolder()
    let tar = try PlannedTar(path: folder + "/p.tar")
    try tar.add(name: "index.json", bytes: Array("{}".utf8))
    try tar.addDirectory(name: "blobs/")
    let first = try tar.addFile(name: "blobs/a", size: 1000)
    let second = try tar.addFile(name: "blobs/b", size: 3)
    // Beyond ustar's octal size field: written in base 256, the data left a hole.
    _ = try tar.addFile(name: "blobs/huge", size: 9 << 30)
    try tar.finish()
    try tar.write(Array("xyz".utf8), at: second)
    try tar.write([UInt8](repeating: 7, count: 600), at: first + 400)
    try tar.write([UInt8](repeating: 5, count: 400), at: first)
    let archive = try TarArchive(path: folder + "/p.tar")
    #expect(try archive.read("index.json", limit: 10) == Array("{}".utf8))
    #expect(
      try archive.read("blobs/a", limit: 2000) == [UInt8](repeating: 5, count: 400) + [UInt8](repeating: 7, count: 600))
    #expect(try archive.read("blobs/b", limit: 10) == Array("xyz".utf8))
    #expect(try archive.resolve("blobs/huge")?.size == 9 << 30)
    let listing = try String(decoding: runTar(["-tvf", folder + "/p.tar"]), as: UTF8.self)
    #expect(listing.contains("blobs/huge") && listing.contains("9663676416"))
  }

  /// Where each member ends, whichever inflater took it (libdeflate whole, zlib streaming) and however the
  /// input was cut: what a docker archive's layers are inflated in parts by.
  @Test func gzipMemberEndsAreCountedInBothStreams() throws {
    var generator = SystemRandomNumberGenerator()
    let words = ["layer ", "digest ", "registry ", "upload ", "manifest "]
    func text(_ count: Int) -> [UInt8] {
      Array((0..<count).map { _ in words.randomElement(using: &generator)! }.joined().utf8)
    }
    // A member of 1 MiB, one of 3 MiB (past libdeflate's limit), and a small one.
    let plains = [Array(text(200_000).prefix(1 << 20)), text(500_000), text(100)]
    let members = plains.map { BlockGzip(level: 1, blockSize: 4 << 20).compress($0) }
    let stream = members.flatMap { $0 }
    var expected = [GzipMemberEnd]()
    var sums = (compressed: Int64(0), plain: Int64(0))
    for (member, plain) in zip(members, plains) {
      sums = (sums.compressed + Int64(member.count), sums.plain + Int64(plain.count))
      expected.append(GzipMemberEnd(compressed: sums.compressed, plain: sums.plain))
    }
    for piece in [4099, 65536, 1 << 20] {
      let decompressor = GzipDecompressor()
      decompressor.notesMemberEnds = true
      var out = [UInt8]()
      for start in stride(from: 0, to: stream.count, by: piece) {
        let slice = Array(stream[start..<min(start + piece, stream.count)])
        try slice.withUnsafeBytes { try decompressor.decompress($0) { out += $0 } }
      }
      try decompressor.finish { out += $0 }
      #expect(out == plains.flatMap { $0 })
      #expect(decompressor.memberEnds == expected)
    }
    // Past its limit, a decompressor stops noting: the stream is inflated whole again.
    let empty = BlockGzip(level: 1, blockSize: 1 << 20).compress([])
    let many = [UInt8](Array(repeating: empty, count: GzipDecompressor.memberEndsLimit + 1).joined())
    let decompressor = GzipDecompressor()
    decompressor.notesMemberEnds = true
    try many.withUnsafeBytes { try decompressor.decompress($0) { _ in } }
    #expect(decompressor.memberEnds.isEmpty && !decompressor.notesMemberEnds)
  }

  /// Member ends read from headers and trailers alone are the ones inflating notes; a header standing in
  /// a stored block with a size before it that could be right makes a wrong prediction, which is all it is.
  @Test func gzipMemberEndsArePredictedWithoutInflating() throws {
    let folder = NSTemporaryDirectory() + "hoist-predict-\(UUID())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    func predict(_ bytes: [UInt8], limit: Int = GzipDecompressor.memberEndsLimit) throws -> (
      size: Int64, memberEnds: [GzipMemberEnd]
    )? {
      try Data(bytes).write(to: URL(fileURLWithPath: folder + "/blob"))
      return try GzipMemberPrediction.predict(path: folder + "/blob", limit: limit)
    }
    var generator = SystemRandomNumberGenerator()
    let words = ["layer ", "digest ", "registry ", "upload ", "manifest "]
    let text = Array((0..<2_000_000).map { _ in words.randomElement(using: &generator)! }.joined().utf8)
    let gzip = BlockGzip(level: 1, blockSize: 1 << 20)
    let members = stride(from: 0, to: text.count, by: 1 << 20).map {
      gzip.compress(Array(text[$0..<min($0 + (1 << 20), text.count)]))
    }
    let stream = members.flatMap { $0 } + gzip.compress([])
    let decompressor = GzipDecompressor()
    decompressor.notesMemberEnds = true
    try stream.withUnsafeBytes { try decompressor.decompress($0) { _ in } }
    let predicted = try #require(try predict(stream))
    #expect(predicted.size == Int64(text.count) && predicted.memberEnds == decompressor.memberEnds)
    #expect(try predict(stream, limit: members.count) == nil)
    #expect(try predict(Array(text.prefix(100_000))) == nil)

    // Noise is stored as it is: a header in it, after a size that fits, reads as a member's start.
    var noise = (0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    noise.replaceSubrange(1_000_000..<1_000_014, with: [0x80, 0x84, 0x1e, 0, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
    let stored = BlockGzip(level: 1, blockSize: 4 << 20).compress(noise)
    let wrong = try #require(try predict(stored))
    #expect(wrong.memberEnds.count == 2 && wrong.size == 2_000_000 + Int64(noise.count))
  }

  @Test func decompressesZstdFramesFedInAnyPieces() throws {
    var generator = SystemRandomNumberGenerator()
    let words = ["layer ", "digest ", "registry ", "upload ", "manifest "]
    let plain = Array((0..<300_000).map { _ in words.randomElement(using: &generator)! }.joined().utf8)
    func zstd(_ input: ArraySlice<UInt8>) -> [UInt8] {
      var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
      let written = input.withUnsafeBytes { source in
        out.withUnsafeMutableBytes { ZSTD_compress($0.baseAddress, $0.count, source.baseAddress, source.count, 3) }
      }
      return Array(out.prefix(written))
    }
    // Two frames, with a skippable frame first, as zstd:chunked writes its table of contents.
    let skippable: [UInt8] = [0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]
    let compressed = skippable + zstd(plain[..<100_000]) + zstd(plain[100_000...])
    #expect(Compression(magic: Array(compressed.prefix(4))) == .zstd)
    for piece in [7, 4096, 1 << 20] {
      let decompressor = ZstdDecompressor()
      var out = [UInt8]()
      for start in stride(from: 0, to: compressed.count, by: piece) {
        try Array(compressed[start..<min(start + piece, compressed.count)]).withUnsafeBytes {
          try decompressor.decompress($0) { out += $0 }
        }
      }
      try decompressor.finish { out += $0 }
      #expect(out == plain, "pieces of \(piece)")
    }
    let cut = Array(compressed.dropLast(10))
    #expect(throws: StreamError.self) { try cut.withUnsafeBytes { try ZstdDecompressor().decompress($0) } }
    #expect(throws: StreamError.self) {
      try Array("not zstd at all".utf8).withUnsafeBytes { try ZstdDecompressor().decompress($0) }
    }
  }

  @Test func refusesNamesThatClimbOut() throws {
    #expect(throws: StreamError.self) { try TarArchive.normalize("../etc/passwd", archive: "x") }
    #expect(throws: StreamError.self) { try TarArchive.normalize("/etc/passwd", archive: "x") }
    #expect(try TarArchive.normalize("./a/./b/../c/", archive: "x") == "a/c")
  }

  @Test func notATar() throws {
    let folder = try temporaryFolder()
    try Data(repeating: 0x41, count: 4000).write(to: URL(fileURLWithPath: folder + "/x.tar"))
    #expect(throws: StreamError.self) { try TarArchive(path: folder + "/x.tar") }
  }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func temporaryFolder() throws -> String {
  let path = NSTemporaryDirectory() + "hoist-tests-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Writes a tar with the system's tar, which is independent of the code under test.
func makeTar(at path: String, members: [(String, Data?)], symlink: (String, String)?, in folder: String) throws {
  let root = folder + "/root-" + UUID().uuidString
  for (name, data) in members {
    if name.hasSuffix("/") {
      try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
    } else if let data {
      try FileManager.default.createDirectory(
        atPath: (root + "/" + name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try data.write(to: URL(fileURLWithPath: root + "/" + name))
    }
  }
  if let (link, target) = symlink {
    try FileManager.default.createSymbolicLink(atPath: root + "/" + link, withDestinationPath: target)
  }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/tar")
  process.arguments = ["--format=pax", "-cf", path, "-C", root] + members.map { $0.0 }.filter { !$0.hasSuffix("/") }
  try process.run()
  process.waitUntilExit()
  #expect(process.terminationStatus == 0)
}

/// GNU tar's output for `arguments`, as an independent reader of what hoist writes.
func runTar(_ arguments: [String]) throws -> Data {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return data
}
