import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

@Suite struct BlobInfoCacheTests {
  let digest = Digest(sha256Bytes: SHA256Hasher.hash([1, 2, 3]))

  @Test func locationsAreKeptPerRegistryNewestFirstAndBounded() async {
    let cache = BlobInfoCache(file: nil)
    for repository in ["a", "b", "c", "d", "e", "b"] {
      await cache.sawBlob(digest, at: MountOrigin(registry: "one.example", repository: repository))
    }
    let seen = await cache.locations(of: digest, registry: "one.example").map(\.repository)
    #expect(seen == ["b", "e", "d", "c"])
    #expect(await cache.locations(of: digest, registry: "two.example").isEmpty)
  }

  @Test func theFileKeepsBothMapsAndReadsTheEarlierLayout() async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hoist-cache-\(UUID())")
    let file = folder.appendingPathComponent("blob-info.json")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let earlier = #"{"gzip \#(digest)":{"digest":"\#(digest)","size":3}}"#
    try Data(earlier.utf8).write(to: file)
    let cache = BlobInfoCache(file: file)
    #expect(await cache.lookup(digest, compression: "gzip")?.size == 3)
    await cache.sawBlob(digest, at: MountOrigin(registry: "one.example", repository: "a"))
    await cache.save()
    let reread = BlobInfoCache(file: file)
    #expect(await reread.lookup(digest, compression: "gzip")?.size == 3)
    #expect(await reread.locations(of: digest, registry: "one.example").map(\.repository) == ["a"])
    try? FileManager.default.removeItem(at: folder)
  }

  @Test func theOldestPairsAreForgottenFirst() {
    var locations = [String: [BlobInfoCache.Sighting]]()
    for i in 0...BlobInfoCache.maximumLocations {
      locations["r \(i)"] = [.init(repository: "x", seen: Date(timeIntervalSince1970: Double(i)))]
    }
    let bounded = BlobInfoCache.bounded(locations)
    #expect(bounded.count == BlobInfoCache.maximumLocations * 9 / 10)
    #expect(bounded["r \(BlobInfoCache.maximumLocations)"] != nil)
    #expect(bounded["r 0"] == nil)
  }
}
