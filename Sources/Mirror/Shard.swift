/// One of `count` independent runs over the same list (`--shard INDEX/COUNT`, or a Kubernetes Indexed
/// Job's `JOB_COMPLETION_INDEX`): each takes the repositories whose name hashes to its index, so whole
/// repositories go together, every machine splits the same list the same way, and the shards together
/// take every repository exactly once.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
  /// From 0 to `count - 1`, as Kubernetes numbers completions.
  public var index: Int
  public var count: Int

  public init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  /// Whether this shard takes a repository of a registry.
  public func takes(registry: String, repository: String) -> Bool {
    Int(Self.hash("\(registry)/\(repository)") % UInt64(count)) == index
  }

  /// The images of a list this shard takes.
  public func images(of list: SyncFile) -> [SyncFile.Image] {
    list.images.filter { takes(registry: $0.registry, repository: $0.repository) }
  }

  public var description: String { "\(index)/\(count)" }

  /// 64-bit FNV-1a of the name's UTF-8 bytes: the same on every machine and in every version of hoist (Swift's
  /// own `Hasher` is seeded per process).
  static func hash(_ name: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    return hash
  }
}
