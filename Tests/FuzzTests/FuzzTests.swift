import Archives
import Foundation
import OCI
import Registry
import Streams
import Testing

/// Random-input tests for every parser that reads what users and servers hand hoist. Each must return or
/// throw, never crash. `swift test` runs a few hundred seeded inputs per parser; `scripts/fuzz` runs each
/// for as long as `HOIST_FUZZ_SECONDS` says, with `HOIST_FUZZ_SEED` to reproduce a run.
@Suite struct FuzzTests {
  /// A small, seedable generator (xorshift64*), so a failing input can be made again.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
      state ^= state >> 12
      state ^= state << 25
      state ^= state >> 27
      return state &* 0x2545_F491_4F6C_DD1D
    }
  }

  static let environment = ProcessInfo.processInfo.environment
  static let seconds = environment["HOIST_FUZZ_SECONDS"].flatMap(Double.init) ?? 0
  static let seed = environment["HOIST_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_129

  /// Runs `body` with fresh inputs: for `HOIST_FUZZ_SECONDS`, or 300 times.
  func fuzz(_ name: String, _ body: (inout Generator) throws -> Void) rethrows {
    // FNV-1a of the name: a stable per-parser seed (String.hashValue changes from run to run).
    let salt = name.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    var generator = Generator(seed: Self.seed ^ salt)
    let deadline = Date().addingTimeInterval(Self.seconds)
    var runs = 0
    repeat {
      try body(&generator)
      runs += 1
    } while Self.seconds > 0 ? Date() < deadline : runs < 300
    if Self.seconds > 0 { print("fuzz \(name): \(runs) inputs in \(Int(Self.seconds)) s, no crash") }
  }

  /// A copy of `bytes` with a few random flips, insertions, deletions or a truncation.
  static func mutate(_ bytes: [UInt8], _ generator: inout Generator) -> [UInt8] {
    var out = bytes
    for _ in 0..<Int.random(in: 1...8, using: &generator) {
      guard !out.isEmpty else {
        out.append(UInt8.random(in: 0...255, using: &generator))
        continue
      }
      let position = Int.random(in: 0..<out.count, using: &generator)
      switch Int.random(in: 0..<5, using: &generator) {
      case 0: out[position] = UInt8.random(in: 0...255, using: &generator)
      case 1: out.insert(UInt8.random(in: 0...255, using: &generator), at: position)
      case 2: out.remove(at: position)
      case 3: out.removeLast(Int.random(in: 0...(out.count - position), using: &generator))
      default:
        out[position] = [0x22, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x2F, 0x2E, 0x00].randomElement(using: &generator)!
      }
    }
    return out
  }

  static func text(_ generator: inout Generator, alphabet: String, length: ClosedRange<Int>) -> String {
    let characters = Array(alphabet)
    return String(
      (0..<Int.random(in: length, using: &generator)).map { _ in characters.randomElement(using: &generator)! })
  }

  @Test func references() {
    fuzz("reference") { generator in
      let text = Self.text(&generator, alphabet: "abcAZ09:/@._-+ sha256", length: 0...80)
      _ = try? Reference(parsing: text)
      _ = try? Digest(text)
      _ = try? Platform(parsing: text)
    }
  }

  @Test func challenges() {
    fuzz("challenge") { generator in
      let header = Self.text(&generator, alphabet: "Bearer Basic realm=\"service,scope\\ =,:/", length: 0...120)
      _ = Challenge(header: header)
    }
  }

  @Test func documents() throws {
    let samples = [
      #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:\#(String(repeating: "a", count: 64))","size":2},"layers":[{"mediaType":"b","digest":"sha256:\#(String(repeating: "b", count: 64))","size":3,"platform":{"os":"linux","architecture":"amd64"}}]}"#,
      #"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:\#(String(repeating: "c", count: 64))","size":1,"annotations":{"k":"v"}}]}"#,
      #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:\#(String(repeating: "d", count: 64))"]}}"#,
    ].map { Array($0.utf8) }
    fuzz("documents") { generator in
      let bytes = Data(Self.mutate(samples.randomElement(using: &generator)!, &generator))
      _ = try? Manifest.decode(bytes, what: "fuzz")
      _ = try? Index.decode(bytes, what: "fuzz")
      _ = try? ImageConfig.decode(bytes, what: "fuzz")
    }
  }

  @Test func archives() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("testdata")
    let samples = try ["docker-legacy.tar", "containerd.tar", "oci-layout.tar", "skopeo.tar"].map {
      try [UInt8](Data(contentsOf: root.appendingPathComponent($0)))
    }
    let folder = NSTemporaryDirectory() + "hoist-fuzz-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try fuzz("archives") { generator in
      let path = folder + "/input.tar"
      try Data(Self.mutate(samples.randomElement(using: &generator)!, &generator)).write(to: URL(fileURLWithPath: path))
      if let archive = try? TarArchive(path: path) {
        for name in archive.entries.keys { _ = try? archive.read(name, limit: 1 << 20) }
      }
      _ = try? ArchiveSource.open(path: path, image: nil)
    }
  }

  /// zTOCs of layers from anywhere: a tar (hoist compresses it) or a gzip stream (indexed as it is), each
  /// mutated; the builder lists what it can or says why it cannot, and never crashes or loops.
  @Test func layers() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("testdata")
    let tars = try ["docker-legacy.tar", "oci-layout.tar"].map {
      try [UInt8](Data(contentsOf: root.appendingPathComponent($0)))
    }
    let codec = BlockGzip(level: 1, blockSize: 64 << 10)
    fuzz("layers") { generator in
      let tar = Self.mutate(tars.randomElement(using: &generator)!, &generator)
      let members = ZtocBuilder(membersOf: codec.blockSize)
      for start in stride(from: 0, to: tar.count, by: codec.blockSize) {
        let block = Array(tar[start..<min(start + codec.blockSize, tar.count)])
        members.readTar(block)
        members.readMember(codec.compress(block))
      }
      _ = members.finish(buildTool: "fuzz")
      let gzip = Self.mutate(BlockGzip(level: 1, blockSize: max(tar.count, 1)).compress(tar), &generator)
      let indexed = ZtocBuilder(gzipSpan: 16 << 10)
      for start in stride(from: 0, to: gzip.count, by: 4096) {
        indexed.readGzip(Array(gzip[start..<min(start + 4096, gzip.count)]))
      }
      _ = indexed.finish(buildTool: "fuzz")
    }
  }
}
