import Foundation
import OCI
import Streams
import Testing

@testable import Archives

@Suite struct LayerBuilderTests {
  static func folder(_ name: String, mtime: TimeInterval) throws -> String {
    let root = NSTemporaryDirectory() + "hoist-layer-\(UUID())/\(name)"
    let manager = FileManager.default
    try manager.createDirectory(atPath: root + "/b", withIntermediateDirectories: true)
    try Data("one".utf8).write(to: URL(fileURLWithPath: root + "/b/one"))
    try Data("two".utf8).write(to: URL(fileURLWithPath: root + "/a"))
    for path in [root + "/a", root + "/b/one"] {
      try manager.setAttributes([.modificationDate: Date(timeIntervalSince1970: mtime)], ofItemAtPath: path)
    }
    return root
  }

  @Test func theSameFilesGiveTheSameLayerAnywhere() throws {
    let builder = LayerBuilder(clamp: 1_700_000_000, compression: BlockGzip(level: 1, blockSize: 1 << 20))
    let first = try Self.folder("x", mtime: 1_800_000_000)
    let second = try Self.folder("y", mtime: 1_900_000_000)
    let out = NSTemporaryDirectory()
    let one = try builder.build(from: first, under: "/app", into: out, mediaType: MediaType.ociLayerGzip)
    let two = try builder.build(from: second, under: "/app", into: out, mediaType: MediaType.ociLayerGzip)
    #expect(one.descriptor.digest == two.descriptor.digest)
    #expect(one.diffID == two.diffID)
    let other = try LayerBuilder(clamp: 1_600_000_000, compression: builder.compression)
      .build(from: first, under: "/app", into: out, mediaType: MediaType.ociLayerGzip)
    #expect(other.diffID != one.diffID)
    for layer in [one, two, other] { try? FileManager.default.removeItem(atPath: layer.path) }
  }

  @Test func aGzipFileIsRefused() throws {
    let path = NSTemporaryDirectory() + "hoist-layer-\(UUID()).tar.gz"
    try Data(BlockGzip(level: 1, blockSize: 1 << 20).compress([1, 2, 3])).write(to: URL(fileURLWithPath: path))
    let builder = LayerBuilder(clamp: 0, compression: BlockGzip(level: 1, blockSize: 1 << 20))
    #expect(throws: ArchiveError.self) {
      _ = try builder.build(from: path, into: NSTemporaryDirectory(), mediaType: MediaType.ociLayerGzip)
    }
  }
}
