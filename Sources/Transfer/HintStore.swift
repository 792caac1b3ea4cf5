import OCI

/// Compressed layers seen in the destinations' current manifests, by the diffID they carry. The manifests
/// are read once, when first asked for a layer the blob-info cache did not know.
actor HintStore {
  private let load: @Sendable () async -> [Manifest]
  private var loading: Task<[Manifest], Never>?
  private var images = [(diffIDs: [Digest], config: Digest)]()

  init(load: @escaping @Sendable () async -> [Manifest]) { self.load = load }

  /// Notes the diffIDs of an image being copied, whose config a current manifest may share.
  func learn(diffIDs: [Digest], configDigest: Digest) { images.append((diffIDs, configDigest)) }

  func compressed(for uncompressed: Digest) async -> Descriptor? {
    let load = self.load
    let task = loading ?? Task { await load() }
    loading = task
    let manifests = await task.value
    for image in images {
      guard let position = image.diffIDs.firstIndex(of: uncompressed) else { continue }
      let matching = manifests.first {
        $0.config.digest == image.config && $0.layers.count == image.diffIDs.count
      }
      if let matching { return matching.layers[position] }
    }
    return nil
  }
}
