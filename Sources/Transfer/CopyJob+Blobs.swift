import Foundation
import OCI
import Streams

/// Blob placement: configs and layers into every destination that lacks them, found, mounted or streamed
/// (compressed once when they must be), each blob tried again from one budget.
extension CopyJob {
  /// Stores a small blob held in memory (a config, a zTOC) in every destination that lacks it, mounted
  /// where it can be (from the source's repository too when `inSource`), reporting it like any other blob.
  func copySmallBlob(_ blob: Descriptor, _ data: Data, inSource: Bool) async throws {
    if inSource { await remember(blob.digest, at: source.mountOrigin(of: blob)) }
    var lacking = [CopyTarget]()
    try await once(
      blob.digest,
      look: {
        let placed = try await placeWithoutSending(blob, sourceBlob: inSource)
        lacking = placed.lacking
        guard placed.lacking.isEmpty else { return nil }
        engine.progress(
          placed.mountedFrom.map { .blobMounted(blob.digest, from: $0) } ?? .blobSkipped(blob.digest, size: blob.size))
        return ()
      },
      send: {
        engine.progress(.blobStarted(blob.digest, size: blob.size, compressing: false))
        for target in lacking {
          try await retrying(blob.digest) { budget in
            try await target.destination.drawing(on: budget).putBlob(data, descriptor: blob)
          }
          await remember(blob.digest, at: target.destination.location)
        }
        engine.progress(.blobDone(blob.digest, stored: blob.digest, sent: blob.size))
      })
  }

  /// Moves each distinct layer once, `concurrency` at a time; returns the layers as stored, in order.
  func copyLayers(_ layers: [Descriptor], format: ManifestFormat) async throws -> [Descriptor] {
    var unique = [Descriptor]()
    for layer in layers where !unique.contains(where: { $0.digest == layer.digest }) { unique.append(layer) }
    var stored = [Digest: Descriptor]()
    var pending = unique[...]
    try await runBounded(width: options.concurrency) { () -> (@Sendable () async throws -> (Digest, Descriptor))? in
      guard let layer = pending.popFirst() else { return nil }
      return { (layer.digest, try await self.copyLayer(layer, format: format)) }
    } finished: { (digest, descriptor) in
      stored[digest] = descriptor
    }
    return layers.map { stored[$0.digest]! }
  }

  /// Moves one layer: skips it where it exists, else streams it (compressing an uncompressed one).
  private func copyLayer(_ layer: Descriptor, format: ManifestFormat) async throws -> Descriptor {
    let compress = built && MediaType.isUncompressedLayer(layer.mediaType)
    let mediaType =
      compress ? (options.compression.isZstd ? MediaType.ociLayerZstd : format.gzipLayerType) : layer.mediaType
    // The layer as stored: its blob's digest and size under the layer's (or the compressed) type.
    func stored(_ digest: Digest, _ size: Int64) -> Descriptor {
      var result = layer
      (result.mediaType, result.digest, result.size) = (mediaType, digest, size)
      return result
    }

    // What the blob may already be stored as: itself, or for a layer to compress, what the blob-info cache
    // remembers and then (asked only if needed) what the destination tags' current manifests hold.
    var candidates: [@Sendable () async -> Descriptor?] = [{ layer }]
    if compress {
      let (cache, hints, key) = (engine.cache, hints, options.compressionKey)
      candidates = [{ await cache.lookup(layer.digest, compression: key) }]
      // A twin in the destination's current manifest counts only if it is compressed the way asked; with
      // --soci, only the cache (whose key names the span) says a twin's members are the spans a zTOC needs.
      if options.soci == nil {
        candidates.append { [zstd = options.compression.isZstd] in
          await hints.compressed(for: layer.digest).flatMap { $0.mediaType.hasSuffix("+zstd") == zstd ? $0 : nil }
        }
      }
    }
    var missing = targets
    let placed = try await once(
      layer.digest,
      look: {
        missing = targets
        for find in candidates {
          guard let candidate = await find() else { continue }
          let placed = try await placeWithoutSending(candidate, sourceBlob: !compress)
          if placed.lacking.isEmpty {
            engine.progress(
              placed.mountedFrom.map { .blobMounted(layer.digest, from: $0) }
                ?? .blobSkipped(layer.digest, size: candidate.size))
            return stored(candidate.digest, candidate.size)
          }
          // A compressed twin found for some targets need not be what compressing gives now: all get the new blob.
          if !compress { missing = placed.lacking }
        }
        return nil
      },
      send: {
        let sent = try await send(layer, compress: compress, to: missing)
        return stored(sent.digest, sent.size)
      })
    try await ensureZtoc(of: layer, stored: placed, compress: compress)
    return placed
  }

  /// Places a blob once for the whole run: `look` returns what it is stored as when no target needs it sent
  /// (nil: some do); while another copy of the run sends the same blob to the same places, this one waits
  /// for it and looks again; otherwise it claims the blob and `send`s it.
  private func once<Placed>(
    _ digest: Digest, look: () async throws -> Placed?, send: () async throws -> Placed
  ) async throws -> Placed {
    let keys = targets.map { BlobsInFlight.Key(digest: digest, place: $0.destination.place) }
    repeat {
      if let placed = try await look() { return placed }
    } while await !engine.sending.claim(keys)
    do {
      let placed = try await send()
      await engine.sending.release(keys)
      return placed
    } catch {
      await engine.sending.release(keys)
      throw error
    }
  }

  /// Streams a layer to the targets that lack it, and notes where it went and what it compressed to.
  private func send(
    _ layer: Descriptor, compress: Bool, to missing: [CopyTarget]
  ) async throws -> (digest: Digest, size: Int64) {
    engine.progress(.blobStarted(layer.digest, size: layer.size, compressing: compress))
    let (digest, size) = try await retrying(layer.digest) { budget in
      try await streamIndexing(layer, compress: compress, to: missing, budget: budget)
    }
    if compress {
      await engine.cache.record(layer.digest, compression: options.compressionKey, digest: digest, size: size)
    }
    for target in missing { await remember(digest, at: target.destination.location) }
    await remember(layer.digest, at: source.mountOrigin(of: layer))
    engine.progress(.blobDone(layer.digest, stored: digest, sent: size))
    return (digest, size)
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
      } else if let origin = await destination.mount(
        candidate, preferring: sourceBlob ? source.mountOrigin(of: candidate).map { [$0] } ?? [] : [],
        cache: engine.cache, attempts: Self.mountAttempts)
      {
        mountedFrom = origin.repository
      } else {
        lacking.append(target)
      }
    }
    return (lacking, mountedFrom)
  }

  /// How many known locations a blob is tried from before it is sent.
  static let mountAttempts = 3

  /// Notes in the blob-info cache that a registry repository holds the blob.
  private func remember(_ digest: Digest, at location: MountOrigin?) async {
    guard let location else { return }
    await engine.cache.sawBlob(digest, at: location)
  }

  /// Runs a blob's transfer with one `RetryBudget`, handed to `body` for everything under it (requests,
  /// chunks, sessions: `drawing(on:)`), and starts it again after a failure that may pass while the budget
  /// lasts; each new try opens a new upload session (a file destination continues its partial blob).
  func retrying<T>(_ digest: Digest, _ body: (RetryBudget) async throws -> T) async throws -> T {
    let budget = RetryBudget(policy: options.retryPolicy)
    while true {
      do {
        return try await body(budget)
      } catch {
        guard await budget.retry(after: ErrorCategory(of: error)) else { throw error }
        engine.progress(.blobRetried(digest, attempt: budget.attempts - 1, reason: "\(error)"))
      }
    }
  }

  /// One pass over a blob through its stages (`BlobStages.swift`): read and verify, compress if asked, fan
  /// out to every target, and show `indexing` the tar and its gzip on the way; every request draws on
  /// `budget`. A blob copied as it is to a single destination continues where an interrupted run left it.
  func stream(
    _ layer: Descriptor, compress: Bool, to targets: [CopyTarget], indexing: ZtocBuilder? = nil, budget: RetryBudget
  ) async throws -> (Digest, Int64) {
    // Small layers go as many at once as --concurrency says: they are over before they hold much.
    guard compress, layer.size >= 4 * Int64(options.compression.blockSize) else {
      return try await streamNow(layer, compress: compress, to: targets, indexing: indexing, budget: budget)
    }
    await engine.largeLayersCompressing.acquire()
    do {
      let streamed = try await streamNow(layer, compress: compress, to: targets, indexing: indexing, budget: budget)
      await engine.largeLayersCompressing.release()
      return streamed
    } catch {
      await engine.largeLayersCompressing.release()
      throw error
    }
  }

  private func streamNow(
    _ layer: Descriptor, compress: Bool, to targets: [CopyTarget], indexing: ZtocBuilder?, budget: RetryBudget
  ) async throws -> (Digest, Int64) {
    var uploads = [any BlobUpload]()
    var compression =
      compress
      ? OrderedCompression(codec: options.compression, slots: engine.compressing, depth: options.compressionThreads)
      : nil
    do {
      let source = source.drawing(on: budget)
      let reopen: BlobReopener = { @Sendable offset in try await source.openBlob(layer, from: offset) }
      for target in targets {
        uploads.append(
          try await target.destination.drawing(on: budget).beginUpload(
            expected: compress ? nil : layer, reopen: compress ? nil : reopen))
      }
      let prefix = !compress && uploads.count == 1 && indexing == nil ? try await uploads[0].storedPrefix() : nil
      var read = try await VerifiedRead(
        layer, source: source.description, prefix: prefix, readSize: options.readSize
      ) { try await source.openBlob(layer, from: $0) }
      if prefix != nil { engine.progress(.blobResumed(layer.digest, bytes: read.bytesRead)) }
      var fanOut = FanOut(uploads, hashing: compress, alreadySent: read.bytesRead)
      while true {
        let chunk = try await read.next(maxLength: compression?.wanted ?? options.readSize)
        if chunk.isEmpty { break }
        if compression != nil {
          indexing?.readTar(chunk)
          for block in await compression!.add(chunk) {
            indexing?.readMember(block)
            try await fanOut.send(block)
          }
        } else {
          indexing?.readGzip(chunk)
          try await fanOut.send(chunk)
        }
        engine.progress(.blobProgress(layer.digest, bytes: read.bytesRead))
      }
      let actual = try read.verify()
      if compression != nil {
        for block in await compression!.finish() {
          indexing?.readMember(block)
          try await fanOut.send(block)
        }
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
