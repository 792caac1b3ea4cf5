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
    var used = Set<String>()
    var results = [Result<Descriptor, any Error>]()
    do {
      for copy in copies {
        for target in copy.targets
        where !destinations.contains(where: { $0.description == target.destination.description }) {
          try await target.destination.prepare()
          destinations.append(target.destination)
        }
        do {
          let source = try await copy.source()
          results.append(.success(try await self.copy(from: source, to: copy.targets)))
          for target in copy.targets { used.insert(target.destination.description) }
        } catch {
          guard keepGoing, !Task.isCancelled else { throw error }
          results.append(.failure(await explained(error, by: copy.targets.map(\.destination))))
        }
      }
      for destination in destinations {
        if used.contains(destination.description) {
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

/// The state of one copy: its source and targets, and what the destinations already hold.
final class CopyJob: Sendable {
  let engine: CopyEngine
  let source: any ImageSource
  let targets: [CopyTarget]
  /// Compressed layers the destinations' current tags use, by uncompressed digest (a fresh machine's cache).
  let hints: HintStore
  /// Blocks compressing, or compressed and waiting to be sent, across every layer: the cores' worth and one
  /// more keeps them busy, and bounds memory however slow the network is.
  let compressing: Slots

  /// Whether the root manifest is hoist's own (see `RootDocument.isBuilt`).
  let built: Bool
  /// The manifests this copy has taken or is taking, so that a referrer listed twice (or a list that names
  /// the image itself) is copied once.
  let carried = DigestSet()

  init(engine: CopyEngine, source: any ImageSource, targets: [CopyTarget], built: Bool) {
    self.engine = engine
    self.built = built
    self.source = source
    self.targets = targets
    self.compressing = Slots(count: engine.options.compressionThreads + 1)
    self.hints = HintStore { await Self.currentManifests(of: targets) }
  }

  var options: CopyOptions { engine.options }

  /// What each destination tag holds now, so layers it shares with this image need not be compressed.
  static func currentManifests(of targets: [CopyTarget]) async -> [Manifest] {
    var manifests = [Manifest]()
    for target in targets {
      for tag in target.tags {
        guard let current = try? await target.destination.currentManifest(tag: tag),
          MediaType.isManifest(current.mediaType),
          let manifest = try? Manifest.decode(current.bytes, what: "current manifest")
        else { continue }
        manifests.append(manifest)
      }
    }
    return manifests
  }

  /// How deep indexes may nest before the source is taken as hostile (real images nest at most twice).
  static let maximumIndexDepth = 8

  /// What a manifest is stored under in each target.
  enum Naming {
    /// The target's tags (by digest where it has none): the image the user named.
    case targetTags
    /// Its digest only: an index's child, a referrer.
    case digest
    /// A tag beside the image (a cosign tag), in each target's terms (`Reference.sibling`).
    case sibling(String)

    func references(in target: CopyTarget, digest: Digest) -> [ManifestReference] {
      switch self {
      case .targetTags: target.tags.isEmpty ? [.digest(digest)] : target.tags.map(ManifestReference.tag)
      case .digest: [.digest(digest)]
      case .sibling(let tag):
        target.tags.isEmpty
          ? [.tag(tag)] : Array(Set(target.tags.map { Reference.sibling(of: $0, tag: tag) })).sorted().map { .tag($0) }
      }
    }
  }

  /// Copies a manifest or index and what it names, then (when asked) its referrers; returns its descriptor
  /// as stored. The document goes byte for byte unless a layer changed (compressed), the user asked for
  /// another format, or a destination refuses it as it is; each of those is said in a notice. `depth`
  /// counts nested indexes, `level` referrers of referrers (0: the image itself).
  func copyNode(
    _ descriptor: Descriptor, bytes: Data, naming: Naming, depth: Int, level: Int
  ) async throws -> Descriptor {
    guard depth <= Self.maximumIndexDepth else {
      throw TransferError.tooDeep(source: source.description, digest: descriptor.digest)
    }
    guard let declared = DeclaredType(document: bytes) else {
      throw TransferError.unsupportedMediaType(source: source.description, mediaType: descriptor.mediaType)
    }
    let own = ManifestFormat(mediaType: declared.mediaType)
    let format = options.format ?? (built ? options.builtFormat : nil) ?? own
    let rewrite =
      declared.isIndex
      ? try await copyIndex(descriptor, bytes: bytes, format: format, depth: depth, level: level)
      : try await copyImage(descriptor, bytes: bytes, format: format)
    let mediaType = rewrite?.mediaType ?? declared.mediaType
    var data = rewrite?.data ?? bytes
    // What to tell the user about a changed digest, once the new one is known.
    var notice: ((Digest) -> String)?
    if let rewrite, let conversion = rewrite.conversion, !built {
      notice = {
        "\(conversion) \(descriptor.digest) converted to \(format.name) as requested: now \($0)\(rewrite.lost)"
      }
    }
    if rewrite == nil, !declared.isExplicit,
      let strict = targets.first(where: { $0.destination.requiresManifestMediaType })
    {
      let reason = "\(strict.destination) refuses manifests without a mediaType field"
      guard !options.keepDigests else {
        throw TransferError.digestMustBeKept(
          destination: strict.destination.description, digest: descriptor.digest, reason: reason)
      }
      data = DeclaredType.addingField(mediaType, to: bytes)
      notice = { "\(reason): added it to \(descriptor.digest), which becomes \($0)" }
    }
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(data))
    if let notice { engine.progress(.notice(notice(digest))) }
    for target in targets {
      for reference in naming.references(in: target, digest: digest) {
        let stored = try await target.destination.putManifest(data, mediaType: mediaType, reference: reference)
        guard stored == digest else {
          throw TransferError.manifestDigestMismatch(
            destination: target.destination.description, expected: digest, actual: stored)
        }
        let separator = if case .digest = reference { "@" } else { ":" }
        engine.progress(.manifestStored("\(target.destination)\(separator)\(reference)", digest: digest))
      }
    }
    var result = descriptor
    result.mediaType = mediaType
    result.digest = digest
    result.size = Int64(data.count)
    try await copyReferrers(of: descriptor.digest, level: level + 1)
    return result
  }

  /// A manifest or index whose bytes had to change: its type and bytes as they go, and for a conversion
  /// the user asked for, which kind of document it was and what Docker schema 2 had no field for.
  struct Rewrite {
    var mediaType: String
    var data: Data
    var conversion: String?
    var dropped: [String]

    /// The dropped fields, as the conversion notice ends.
    var lost: String {
      dropped.isEmpty ? "" : " (dropped, as Docker schema 2 has no field for them: \(dropped.joined(separator: ", ")))"
    }
  }

  /// Copies an index's children; returns the index rewritten where a child changed or a conversion was asked
  /// for, nil when its bytes go as they are.
  private func copyIndex(
    _ descriptor: Descriptor, bytes: Data, format: ManifestFormat, depth: Int, level: Int
  ) async throws -> Rewrite? {
    let index = try Index.decode(bytes, what: "\(source): index \(descriptor.digest)")
    var (out, dropped) = (index, [String]())
    if ManifestFormat(mediaType: index.mediaType) != format { (out, dropped) = index.converted(to: format) }
    for (i, child) in index.manifests.enumerated() {
      let childBytes = try await source.document(child)
      let stored = try await copyNode(child, bytes: childBytes, naming: .digest, depth: depth + 1, level: level)
      guard stored.digest != child.digest else { continue }
      out.manifests[i].mediaType = stored.mediaType
      out.manifests[i].digest = stored.digest
      out.manifests[i].size = stored.size
    }
    guard out != index else { return nil }
    let mediaType = out.mediaType ?? format.indexType
    out.mediaType = mediaType
    let converted = ManifestFormat(mediaType: index.mediaType) != format
    return Rewrite(mediaType: mediaType, data: out.encoded(), conversion: converted ? "index" : nil, dropped: dropped)
  }

  /// Copies an image's layers and config; returns the manifest rewritten where a layer was compressed or a
  /// conversion was asked for, nil when its bytes go as they are.
  private func copyImage(_ descriptor: Descriptor, bytes: Data, format: ManifestFormat) async throws -> Rewrite? {
    let manifest = try Manifest.decode(bytes, what: "\(source): manifest \(descriptor.digest)")
    let converting = ManifestFormat(mediaType: manifest.mediaType) != format
    var (out, dropped) = (manifest, [String]())
    if converting { (out, dropped) = try manifest.converted(to: format) }
    let configData = try await source.document(manifest.config)
    if let diffIDs = (try? ImageConfig.decode(configData, what: "config"))?.rootfs.diffIDs {
      await hints.learn(diffIDs: diffIDs, configDigest: manifest.config.digest)
    }
    out.layers = try await copyLayers(out.layers, format: format)
    try await copyConfig(out.config, configData)
    guard out != manifest else { return nil }
    let mediaType = out.mediaType ?? format.manifestType
    out.mediaType = mediaType
    return Rewrite(
      mediaType: mediaType, data: out.encoded(), conversion: converting ? "manifest" : nil, dropped: dropped)
  }

  /// Stores the config in every destination that lacks it (mounted where it can be), reporting it like any
  /// other blob.
  private func copyConfig(_ config: Descriptor, _ data: Data) async throws {
    await remember(config.digest, at: source.mountOrigin(of: config))
    let placed = try await placeWithoutSending(config, sourceBlob: true)
    guard !placed.lacking.isEmpty else {
      engine.progress(
        placed.mountedFrom.map { .blobMounted(config.digest, from: $0) }
          ?? .blobSkipped(config.digest, size: config.size))
      return
    }
    engine.progress(.blobStarted(config.digest, size: config.size, compressing: false))
    for target in placed.lacking {
      try await retrying(config.digest) { try await target.destination.putBlob(data, descriptor: config) }
      await remember(config.digest, at: target.destination.location)
    }
    engine.progress(.blobDone(config.digest, stored: config.digest, sent: config.size))
  }

  /// Moves each distinct layer once, `concurrency` at a time; returns the layers as stored, in order.
  private func copyLayers(_ layers: [Descriptor], format: ManifestFormat) async throws -> [Descriptor] {
    var unique = [Descriptor]()
    for layer in layers where !unique.contains(where: { $0.digest == layer.digest }) { unique.append(layer) }
    var stored = [Digest: Descriptor]()
    try await withThrowingTaskGroup(of: (Digest, Descriptor).self) { group in
      var pending = unique[...]
      func startNext() {
        guard let layer = pending.popFirst() else { return }
        group.addTask { (layer.digest, try await self.copyLayer(layer, format: format)) }
      }
      for _ in 0..<max(1, options.concurrency) { startNext() }
      while let (digest, descriptor) = try await group.next() {
        stored[digest] = descriptor
        startNext()
      }
    }
    return layers.map { stored[$0.digest]! }
  }

  /// Moves one layer: skips it where it exists, else streams it (compressing an uncompressed one).
  private func copyLayer(_ layer: Descriptor, format: ManifestFormat) async throws -> Descriptor {
    let compress = built && MediaType.isUncompressedLayer(layer.mediaType)
    var result = layer
    if compress { result.mediaType = options.compression.isZstd ? MediaType.ociLayerZstd : format.gzipLayerType }

    // What the blob may already be stored as: itself, or for a layer to compress, what the blob-info cache
    // remembers and then (asked only if needed) what the destination tags' current manifests hold.
    var candidates: [@Sendable () async -> Descriptor?] = [{ layer }]
    if compress {
      let (cache, hints, key) = (engine.cache, hints, options.compressionKey)
      candidates = [
        { await cache.lookup(layer.digest, compression: key) },
        // A twin in the destination's current manifest counts only if it is compressed the way asked.
        { [zstd = options.compression.isZstd] in
          await hints.compressed(for: layer.digest).flatMap { $0.mediaType.hasSuffix("+zstd") == zstd ? $0 : nil }
        },
      ]
    }
    var missing = targets
    for find in candidates {
      guard let candidate = await find() else { continue }
      let placed = try await placeWithoutSending(candidate, sourceBlob: !compress)
      if placed.lacking.isEmpty {
        result.digest = candidate.digest
        result.size = candidate.size
        engine.progress(
          placed.mountedFrom.map { .blobMounted(layer.digest, from: $0) }
            ?? .blobSkipped(layer.digest, size: candidate.size))
        return result
      }
      // A compressed twin found for some targets need not be what compressing gives now: all get the new blob.
      if !compress { missing = placed.lacking }
    }

    engine.progress(.blobStarted(layer.digest, size: layer.size, compressing: compress))
    let (digest, size) = try await retrying(layer.digest) { try await stream(layer, compress: compress, to: missing) }
    if compress {
      await engine.cache.record(layer.digest, compression: options.compressionKey, digest: digest, size: size)
    }
    for target in missing { await remember(digest, at: target.destination.location) }
    await remember(layer.digest, at: source.mountOrigin(of: layer))
    engine.progress(.blobDone(layer.digest, stored: digest, sent: size))
    result.digest = digest
    result.size = size
    return result
  }

  /// Makes `candidate` present in every target that can have it without sending it: those that hold it
  /// already, and those that can mount it from another repository of their registry where it was seen (the
  /// source's, when `sourceBlob`, or one the blob-info cache remembers). Returns the targets still lacking it
  /// and, if it was mounted, from which repository.
  private func placeWithoutSending(
    _ candidate: Descriptor, sourceBlob: Bool
  ) async throws -> (lacking: [CopyTarget], mountedFrom: String?) {
    var lacking = [CopyTarget]()
    var mountedFrom: String?
    for target in targets {
      let destination = target.destination
      if try await destination.blobExists(candidate) {
        await remember(candidate.digest, at: destination.location)
      } else if let origin = await mount(candidate, into: destination, sourceBlob: sourceBlob) {
        mountedFrom = origin.repository
        await remember(candidate.digest, at: destination.location)
      } else {
        lacking.append(target)
      }
    }
    return (lacking, mountedFrom)
  }

  /// How many known locations a blob is tried from before it is sent.
  static let mountAttempts = 3

  /// Mounts a blob into a registry destination from a repository of the same registry known to hold it;
  /// nil when there is none, or none would (mounting off, the blob gone there, no pull permission on it),
  /// in which case the blob is sent as if nothing had been tried.
  private func mount(
    _ blob: Descriptor, into destination: any ImageDestination, sourceBlob: Bool
  ) async -> MountOrigin? {
    guard let here = destination.location else { return nil }
    var origins = await engine.cache.locations(of: blob.digest, registry: here.registry)
    if sourceBlob, let origin = source.mountOrigin(of: blob), origin.registry == here.registry {
      origins.insert(origin, at: 0)
    }
    var tried = [MountOrigin]()
    for origin in origins where origin != here && !tried.contains(origin) && tried.count < Self.mountAttempts {
      tried.append(origin)
      if (try? await destination.mountBlob(blob, from: origin)) == true { return origin }
    }
    return nil
  }

  /// Notes in the blob-info cache that a registry repository holds the blob.
  private func remember(_ digest: Digest, at location: MountOrigin?) async {
    guard let location else { return }
    await engine.cache.sawBlob(digest, at: location)
  }

  /// Runs a blob's transfer with one `RetryBudget` for everything under it (requests, chunks, sessions),
  /// and starts it again after a failure that may pass while the budget lasts; each new try opens a new
  /// upload session (a file destination continues its partial blob).
  private func retrying<T>(_ digest: Digest, _ body: () async throws -> T) async throws -> T {
    let budget = RetryBudget(policy: options.retryPolicy)
    return try await RetryBudget.$current.withValue(budget) {
      while true {
        do {
          return try await body()
        } catch {
          guard await budget.retry(after: ErrorCategory(of: error)) else { throw error }
          engine.progress(.blobRetried(digest, attempt: budget.attempts - 1, reason: "\(error)"))
        }
      }
    }
  }

  /// One pass over a blob through its stages (`BlobStages.swift`): read and verify, compress if asked, fan
  /// out to every target. A blob copied as it is to a single destination continues where an interrupted
  /// run left it.
  private func stream(_ layer: Descriptor, compress: Bool, to targets: [CopyTarget]) async throws -> (Digest, Int64) {
    var uploads = [any BlobUpload]()
    var compression =
      compress
      ? OrderedCompression(codec: options.compression, slots: compressing, depth: options.compressionThreads) : nil
    do {
      let source = source
      let reopen: BlobReopener = { @Sendable offset in try await source.openBlob(layer, from: offset) }
      for target in targets {
        uploads.append(
          try await target.destination.beginUpload(expected: compress ? nil : layer, reopen: compress ? nil : reopen))
      }
      let prefix = !compress && uploads.count == 1 ? try await uploads[0].storedPrefix() : nil
      var read = try await VerifiedRead(
        layer, source: source.description, prefix: prefix, readSize: options.readSize
      ) { try await source.openBlob(layer, from: $0) }
      if prefix != nil { engine.progress(.blobResumed(layer.digest, bytes: read.bytesRead)) }
      var fanOut = FanOut(uploads, hashing: compress, alreadySent: read.bytesRead)
      while true {
        let chunk = try await read.next(maxLength: compression?.wanted ?? options.readSize)
        if chunk.isEmpty { break }
        if compression != nil {
          for block in await compression!.add(chunk) { try await fanOut.send(block) }
        } else {
          try await fanOut.send(chunk)
        }
        engine.progress(.blobProgress(layer.digest, bytes: read.bytesRead))
      }
      let actual = try read.verify()
      if compression != nil {
        for block in await compression!.finish() { try await fanOut.send(block) }
      }
      let digest = fanOut.sentDigest() ?? actual
      try await fanOut.finish(digest: digest)
      return (digest, fanOut.bytesSent)
    } catch {
      await compression?.cancel()
      await FanOut(uploads, hashing: false).cancel(after: error)
      throw error
    }
  }
}

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
