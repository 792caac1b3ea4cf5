import Testing

@testable import Mirror

@Suite struct ShardTests {
  let list = try! SyncFile(
    yaml: """
      registry.example.com:
        images:
      \((0..<40).map { "    team/app\($0): []" }.joined(separator: "\n"))
        images-by-tag-regex:
          team/app3: ^1\\.
      other.example.com:
        images:
          library/busybox: ["1.36"]
      """, path: "images.yaml")

  @Test func theShardsTakeEveryEntryExactlyOnce() {
    for count in [1, 2, 3, 4, 7] {
      let taken = (0..<count).flatMap { Shard(index: $0, count: count).images(of: list) }
      #expect(taken.count == list.images.count)
      #expect(Set(taken.map { "\($0.registry)/\($0.repository)/\($0.line)" }).count == list.images.count)
    }
  }

  @Test func aRepositoryNamedTwiceGoesToOneShard() {
    let shards = (0..<4).filter { index in
      Shard(index: index, count: 4).images(of: list).contains { $0.repository == "team/app3" }
    }
    #expect(shards.count == 1)
    #expect(Shard(index: shards[0], count: 4).images(of: list).filter { $0.repository == "team/app3" }.count == 2)
  }

  @Test func theSplitIsTheSameOnEveryMachine() {
    // FNV-1a 64 of a known name: a change here moves repositories between the shards of running mirrors.
    #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
    #expect(Shard(index: 1, count: 4).takes(registry: "r", repository: "x") == (Shard.hash("r/x") % 4 == 1))
  }

  @Test func noShardIsLeftEmptyOnARealisticList() {
    for index in 0..<4 { #expect(Shard(index: index, count: 4).images(of: list).count >= 5) }
  }
}
