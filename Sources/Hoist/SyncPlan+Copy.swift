import Archives
import Foundation
import OCI
import Registry
import Synchronization
import Transfer

extension SyncPlan {
  /// Copies the items, `imagesAtOnce` at a time, each blob sent once however many images in flight share it.
  /// Into a registry without referrers, an image whose destination tag holds its digest already (the
  /// source's and the destination's digests asked for with HEADs, many at once) is not copied again. A
  /// failed image does not stop the others. Outcomes come in the items' order.
  public func copy(
    _ items: [Item], in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void
  ) async throws -> [Outcome] {
    let sent = BytesSent()
    let engine = CopyEngine(
      options: session.settings.copyOptions(concurrency: concurrency).carrying(referrers),
      cache: session.settings.blobInfoCache(),
      progress: { event in
        sent.note(event)
        progress(event)
      })
    let bundle = try output.map {
      try LayoutDestination(
        path: $0, format: OutputFormat.implied(by: $0), uncompressedLayers: false, maxFileSize: maxFileSize)
    }
    if let bundle, !since.isEmpty { await bundle.leaveOut(try PlanRules.blobs(since: since), since: since) }
    // With referrers, an image already mirrored is copied again (blobs found, nothing sent), so that
    // signatures added since reach the mirror.
    let mirrored: [Digest?] =
      bundle == nil && referrers == nil
      ? await inParallel(items, width: Self.checksAtOnce) { [self] item in try? await alreadyThere(item, in: session) }
      : items.map { _ in nil }
    var outcomes = [Outcome?](repeating: nil, count: items.count)
    var copies = [ImageCopy]()
    var copied = [Int]()
    for (position, item) in items.enumerated() {
      if let digest = mirrored[position] {
        outcomes[position] = .alreadyThere(item.name, digest)
        continue
      }
      let source = RegistrySource(
        client: try session.client(for: item.source), repository: item.source.repository,
        reference: item.source.manifestReference, platform: .all)
      let target: CopyTarget
      if let bundle {
        target = CopyTarget(destination: bundle, tags: [item.source.description])
      } else if let reference = item.destination {
        let destination = RegistryDestination(
          client: try session.client(for: reference, createRepositories: createRepositories),
          repository: reference.repository,
          chunkSize: RegistryDestination.defaultChunkSize)
        target = CopyTarget(destination: destination, tags: reference.tag.map { [$0] } ?? [])
      } else {
        continue
      }
      copies.append(ImageCopy(source: { source }, targets: [target], label: item.name))
      copied.append(position)
    }
    for (position, result) in zip(copied, try await engine.runEach(copies, jobs: imagesAtOnce)) {
      let name = items[position].name
      switch result {
      case .success(let stored): outcomes[position] = .copied(name, stored.digest, bytes: sent.bytes(of: name))
      case .failure(let error): outcomes[position] = .failed(name, where: nil, error)
      }
    }
    return outcomes.compactMap { $0 }
  }

  /// The digest the item's destination tag holds, when it is the source's: the image is there already.
  /// Two HEADs, the source's only when the destination has the tag (a first mirror asks each registry
  /// once per image; the checks run many at once, so the order costs no time).
  func alreadyThere(_ item: Item, in session: Session) async throws -> Digest? {
    guard let destination = item.destination, let tag = destination.tag,
      let current = try await session.client(for: destination, createRepositories: createRepositories)
        .manifestDigest(repository: destination.repository, reference: tag, forPush: true)
    else { return nil }
    let served = try await session.client(for: item.source).manifestDigest(
      repository: item.source.repository, reference: item.source.manifestReference, forPush: false)
    return served == current ? current : nil
  }
}

/// The bytes sent for each image of a run, from its labelled progress events.
final class BytesSent: Sendable {
  private let sent = Mutex<[String: Int64]>([:])

  func note(_ event: ProgressEvent) {
    guard case .of(let image, .blobDone(_, _, let bytes)) = event else { return }
    sent.withLock { $0[image, default: 0] += bytes }
  }

  func bytes(of image: String) -> Int64 { sent.withLock { $0[image] ?? 0 } }
}
