import OCI

extension ImageDestination {
  /// Mounts `blob` here from another repository of this registry known to hold it: `preferred` first, then
  /// those the blob-info cache remembers, at most `attempts` of them, and notes in the cache that it is here
  /// now. Nil when none would (a file destination, mounting off, the blob gone there, no pull permission on
  /// it): the caller then sends the blob, or reports it missing.
  public func mount(
    _ blob: Descriptor, preferring preferred: [MountOrigin], cache: BlobInfoCache, attempts: Int
  ) async -> MountOrigin? {
    guard let here = location else { return nil }
    let known = await cache.locations(of: blob.digest, registry: here.registry)
    var tried = Set<MountOrigin>()
    for origin in preferred + known where origin.registry == here.registry && origin != here {
      guard tried.count < attempts else { break }
      guard tried.insert(origin).inserted else { continue }
      if (try? await mountBlob(blob, from: origin)) == true {
        await cache.sawBlob(blob.digest, at: here)
        return origin
      }
    }
    return nil
  }
}
