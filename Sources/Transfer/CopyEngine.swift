import Foundation
import OCI
import Streams

/// Copies an image from one source to any number of destinations: every blob is read once,
/// compressed once if it must be, and sent to each destination that lacks it, then the manifests follow.
public struct CopyEngine: Sendable {
  public let options: CopyOptions
  public let cache: BlobInfoCache
  private(set) var progress: @Sendable (ProgressEvent) -> Void
  /// Blobs being sent to a place by one copy of the run, which the others wait for instead of sending them too.
  let sending = BlobsInFlight()
  /// The zTOCs of this run (`--soci`), shared by its copies.
  let ztocs: ZtocShelf
  /// Blocks compressing, or compressed and waiting to be sent, across every layer of every copy of the run:
  /// the cores' worth and one more keeps them busy, and bounds memory however slow the network is and
  /// however many images move at once.
  let compressing: Slots
  /// Large layers compressing at once in the run: as many as there are cores keep them busy; each more
  /// holds a block being filled and an upload's buffers (about 4 MiB) for no gain.
  let largeLayersCompressing: Slots

  public init(
    options: CopyOptions, cache: BlobInfoCache = BlobInfoCache(file: nil),
    progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in }
  ) {
    self.options = options
    self.cache = cache
    self.progress = progress
    self.ztocs = ZtocShelf(cache: cache, settings: options.soci)
    self.compressing = Slots(count: options.compressionThreads + 1)
    self.largeLayersCompressing = Slots(count: options.compressionThreads)
  }

  /// Runs copies as one piece of work, `jobs` images at a time (copies into one registry repository take
  /// turns, see `RunDestinations.takeTurn`): prepares each destination before its first copy, commits every
  /// destination after the last, and when a copy fails, abandons them all and throws the
  /// failure as a destination explains it (or as it is). Returns the root descriptor of each copy as stored,
  /// in the order given.
  public func run(_ copies: [ImageCopy], jobs: Int = 1) async throws -> [Descriptor] {
    try await perform(copies, keepGoing: false, jobs: jobs).map { try $0.get() }
  }

  /// Runs every copy even when some fail (a mirror of many images), `jobs` at a time: each failure is kept
  /// as its result, as a destination explains it; destinations that took at least one image are committed,
  /// the others abandoned. Only an interruption, or a failure to prepare or commit, is thrown.
  public func runEach(_ copies: [ImageCopy], jobs: Int = 1) async throws -> [Result<Descriptor, any Error>] {
    try await perform(copies, keepGoing: true, jobs: jobs)
  }

  private func perform(
    _ copies: [ImageCopy], keepGoing: Bool, jobs: Int
  ) async throws -> [Result<Descriptor, any Error>] {
    let run = RunDestinations()
    var results = [Result<Descriptor, any Error>?](repeating: nil, count: copies.count)
    do {
      var order = RunDestinations.startOrder(copies.map { $0.targets.first?.destination.repositoryKey })[...]
      try await runBounded(width: jobs) { () -> (@Sendable () async throws -> (Int, Result<Descriptor, any Error>))? in
        guard let position = order.popFirst() else { return nil }
        return { (position, try await self.perform(copies[position], at: position, in: run, keepGoing: keepGoing)) }
      } finished: { (position, result) in
        results[position] = result
      }
      await cache.save()
      for destination in await run.prepared {
        if await run.took(destination) {
          try await destination.commit()
        } else {
          await destination.abandon()
        }
      }
      return results.map { $0! }
    } catch {
      await cache.save()
      let destinations = await run.prepared
      let failure = await explained(error, by: destinations)
      for destination in destinations { await destination.abandon() }
      throw failure
    }
  }

  /// One copy of a run: its destinations prepared (once per run), its turn at the registry repositories it
  /// writes into taken, the copy made under its position (which orders what file destinations list) with
  /// its events labelled with the image when it has a label.
  private func perform(
    _ copy: ImageCopy, at position: Int, in run: RunDestinations, keepGoing: Bool
  ) async throws -> Result<Descriptor, any Error> {
    for target in copy.targets { try await run.prepare(target.destination) }
    let engine = copy.label.map(labelled) ?? self
    let repositories = Set(copy.targets.compactMap(\.destination.repositoryKey))
    await run.takeTurn(repositories)
    do {
      let source = try await copy.source()
      let stored = try await engine.copy(from: source, to: copy.targets, order: position)
      await run.endTurn(repositories)
      await run.use(copy.targets.map(\.destination))
      return .success(stored)
    } catch {
      await run.endTurn(repositories)
      guard keepGoing, !Task.isCancelled else { throw error }
      return .failure(await explained(error, by: copy.targets.map(\.destination)))
    }
  }

  /// This engine with every event wrapped as an event of `image`.
  private func labelled(_ image: String) -> CopyEngine {
    let progress = progress
    var engine = self
    engine.progress = { progress(.of(image: image, $0)) }
    return engine
  }

  /// A failure as the first destination that has something to add explains it, else as it is.
  private func explained(_ error: any Error, by destinations: [any ImageDestination]) async -> any Error {
    for destination in destinations {
      if let explained = await destination.explain(error) { return explained }
    }
    return error
  }

  /// Copies the source's root image or index, and no more: no destination is prepared, committed or
  /// abandoned (`run` does that). `order` is the copy's place in its run (see
  /// `ImageDestination.putManifest`). Returns the root manifest's descriptor as stored.
  public func copy(from source: any ImageSource, to targets: [CopyTarget], order: Int = 0) async throws -> Descriptor {
    let root = try await source.root()
    for notice in root.notices { progress(.notice(notice)) }
    let job = CopyJob(engine: self, source: source, targets: targets, built: root.isBuilt, order: order)
    do {
      _ = await job.carried.insert(root.descriptor.digest)
      let stored = try await job.copyNode(root.descriptor, bytes: root.bytes, naming: .targetTags, depth: 0, level: 0)
      if root.isBuilt {
        progress(.notice("\(source) has no registry manifest to keep: hoist built one, \(stored.digest)"))
      }
      await cache.checkpoint()
      return stored
    } catch {
      // What finished before the failure spares the next attempt the work.
      await cache.checkpoint()
      throw error
    }
  }
}

/// One image to copy and where it goes; the source is opened when its turn comes. A `label` (the image's
/// name) marks its progress events, for runs that copy several images at once.
public struct ImageCopy: Sendable {
  public var source: @Sendable () async throws -> any ImageSource
  public var targets: [CopyTarget]
  public var label: String?

  public init(
    source: @escaping @Sendable () async throws -> any ImageSource, targets: [CopyTarget], label: String? = nil
  ) {
    self.source = source
    self.targets = targets
    self.label = label
  }
}
