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
      cache: session.blobInfo,
      progress: { event in
        sent.note(event)
        progress(event)
      })
    let bundle = try output.map {
      try LayoutDestination(
        path: $0, format: OutputFormat.implied(by: $0, delta: !since.isEmpty), uncompressedLayers: false,
        maxFileSize: maxFileSize)
    }
    if let bundle, !since.isEmpty { await bundle.leaveOut(try PlanRules.base(since: since), since: since) }
    if let notice = output.flatMap({ PlanRules.deltaFormatNotice(output: $0, given: nil, since: since) }) {
      progress(.notice(notice))
    }
    // With referrers, an image already mirrored is copied again (blobs found, nothing sent), so that
    // signatures added since reach the mirror.
    var mirrored = items.map { _ -> Digest? in nil }
    if bundle == nil && referrers == nil {
      let known = await taggedDigests(
        at: items.flatMap { [$0.source] + ($0.destination.map { [$0] } ?? []) }, in: session)
      mirrored = await inParallel(items, width: Self.checksAtOnce) { [self] item in
        try? await alreadyThere(item, known: known, in: session)
      }
    }
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

  /// What the repositories' tags hold, for those whose registry says so in one call (ECR), by
  /// `registry/repository`.
  func taggedDigests(at references: [Reference], in session: Session) async -> [String: [String: Digest]] {
    let repositories = Array(Set(references.map { [$0.registry, $0.repository] }))
    let listed = await inParallel(repositories, width: Self.checksAtOnce) { place in
      await session.taggedDigests(registry: place[0], repository: place[1])
    }
    var known = [String: [String: Digest]]()
    for (place, digests) in zip(repositories, listed) { known[place.joined(separator: "/")] = digests }
    return known
  }

  /// The digest the item's destination tag holds, when it is the source's: the image is there already.
  /// Each side's digest from `known` (its repository's tags, listed at once) or a HEAD; the source's only
  /// when the destination has the tag (a first mirror asks each registry once per image at most; the checks
  /// run many at once, so the order costs no time).
  func alreadyThere(_ item: Item, known: [String: [String: Digest]], in session: Session) async throws -> Digest? {
    guard let destination = item.destination, let tag = destination.tag,
      let current = try await digest(of: destination, tag: tag, known: known, forPush: true, in: session)
    else { return nil }
    let served =
      if let digest = item.source.digest { digest } else {
        try await digest(of: item.source, tag: item.source.manifestReference, known: known, forPush: false, in: session)
      }
    return served == current ? current : nil
  }

  /// The digest a tag of a repository holds: from `known`, else a HEAD (`forPush`: with the rights a push
  /// needs, at the destination).
  private func digest(
    of reference: Reference, tag: String, known: [String: [String: Digest]], forPush: Bool, in session: Session
  ) async throws -> Digest? {
    if let listed = known[reference.registry + "/" + reference.repository] { return listed[tag] }
    return try await session.client(for: reference, createRepositories: forPush && createRepositories)
      .manifestDigest(repository: reference.repository, reference: tag, forPush: forPush)
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
