import Foundation
import OCI
import Streams

/// Copies an image from one source to any number of destinations: every blob is read once,
/// compressed once if it must be, and sent to each destination that lacks it, then the manifests follow.
public struct CopyEngine: Sendable {
  public let options: CopyOptions
  let cache: BlobInfoCache
  let progress: @Sendable (ProgressEvent) -> Void

  public init(
    options: CopyOptions, cache: BlobInfoCache = BlobInfoCache(file: nil),
    progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in }
  ) {
    self.options = options
    self.cache = cache
    self.progress = progress
  }

  /// Runs copies one after another as one piece of work: prepares each destination before its first copy,
  /// commits every destination after the last, and when a copy fails, abandons them all and throws the
  /// failure as a destination explains it (or as it is). Returns the root descriptor of each copy as stored.
  public func run(_ copies: [ImageCopy]) async throws -> [Descriptor] {
    try await perform(copies, keepGoing: false).map { try $0.get() }
  }

  /// Runs every copy even when some fail (a mirror of many images): each failure is kept as its result, as
  /// a destination explains it; destinations that took at least one image are committed, the others
  /// abandoned. Only an interruption, or a failure to prepare or commit, is thrown.
  public func runEach(_ copies: [ImageCopy]) async throws -> [Result<Descriptor, any Error>] {
    try await perform(copies, keepGoing: true)
  }

  private func perform(_ copies: [ImageCopy], keepGoing: Bool) async throws -> [Result<Descriptor, any Error>] {
    var destinations = [any ImageDestination]()
    var used = Set<AnyHashable>()
    var results = [Result<Descriptor, any Error>]()
    do {
      for copy in copies {
        for target in copy.targets where !destinations.contains(where: { $0.identity == target.destination.identity }) {
          try await target.destination.prepare()
          destinations.append(target.destination)
        }
        do {
          let source = try await copy.source()
          results.append(.success(try await self.copy(from: source, to: copy.targets)))
          for target in copy.targets { used.insert(target.destination.identity) }
        } catch {
          guard keepGoing, !Task.isCancelled else { throw error }
          results.append(.failure(await explained(error, by: copy.targets.map(\.destination))))
        }
      }
      for destination in destinations {
        if used.contains(destination.identity) {
          try await destination.commit()
        } else {
          await destination.abandon()
        }
      }
      return results
    } catch {
      let failure = await explained(error, by: destinations)
      for destination in destinations { await destination.abandon() }
      throw failure
    }
  }

  /// A failure as the first destination that has something to add explains it, else as it is.
  private func explained(_ error: any Error, by destinations: [any ImageDestination]) async -> any Error {
    for destination in destinations {
      if let explained = await destination.explain(error) { return explained }
    }
    return error
  }

  /// Copies the source's root image or index, and no more: no destination is prepared, committed or
  /// abandoned (`run` does that). Returns the root manifest's descriptor as stored.
  public func copy(from source: any ImageSource, to targets: [CopyTarget]) async throws -> Descriptor {
    let root = try await source.root()
    for notice in root.notices { progress(.notice(notice)) }
    let job = CopyJob(engine: self, source: source, targets: targets, built: root.isBuilt)
    do {
      _ = await job.carried.insert(root.descriptor.digest)
      let stored = try await job.copyNode(root.descriptor, bytes: root.bytes, naming: .targetTags, depth: 0, level: 0)
      if root.isBuilt {
        progress(.notice("\(source) has no registry manifest to keep: hoist built one, \(stored.digest)"))
      }
      await cache.save()
      return stored
    } catch {
      // What finished before the failure spares the next attempt the work.
      await cache.save()
      throw error
    }
  }
}

/// One image to copy and where it goes; the source is opened when its turn comes.
public struct ImageCopy: Sendable {
  public var source: @Sendable () async throws -> any ImageSource
  public var targets: [CopyTarget]

  public init(source: @escaping @Sendable () async throws -> any ImageSource, targets: [CopyTarget]) {
    self.source = source
    self.targets = targets
  }
}
