import OCI

/// Blobs one copy is sending to a place (a registry, or a file destination), so that another copy of the
/// same run that needs the same blob there waits for it and then finds or mounts it instead of sending it
/// a second time.
actor BlobsInFlight {
  /// A blob (by its source digest) bound for a place.
  struct Key: Hashable {
    var digest: Digest
    var place: String
  }

  private var waiting = [Key: [CheckedContinuation<Void, Never>]]()

  /// Claims the keys for the caller to send; when another copy holds any of them, waits until it is done
  /// and returns false (the caller looks again before sending). Keys already held are not claimed.
  func claim(_ keys: [Key]) async -> Bool {
    guard let held = keys.first(where: { waiting[$0] != nil }) else {
      for key in keys { waiting[key] = [] }
      return true
    }
    await withCheckedContinuation { waiting[held, default: []].append($0) }
    return false
  }

  /// Ends the caller's claim on the keys, whether the blob went or not, and wakes whoever waits for them.
  func release(_ keys: [Key]) {
    for key in keys {
      for waiter in waiting.removeValue(forKey: key) ?? [] { waiter.resume() }
    }
  }
}

extension ImageDestination {
  /// Where a blob sent here can be had from without sending it again: the destination's registry (another
  /// repository mounts it), else the destination itself (a file, by its path).
  var place: String { location.map { "registry \($0.registry)" } ?? "file \(description)" }
}
