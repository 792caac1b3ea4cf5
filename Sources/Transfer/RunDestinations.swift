import OCI

/// The destinations of one run of the engine: each prepared once, however many copies run at once, and
/// which of them took an image (those are committed, the others abandoned).
actor RunDestinations {
  private var preparing = [AnyHashable: Task<Void, any Error>]()
  /// Every destination whose preparation began, in that order.
  private(set) var prepared = [any ImageDestination]()
  private var used = Set<AnyHashable>()

  /// Prepares the destination unless another copy did or is doing it, and waits until it is ready.
  func prepare(_ destination: any ImageDestination) async throws {
    if let task = preparing[destination.identity] { return try await task.value }
    let task = Task { try await destination.prepare() }
    preparing[destination.identity] = task
    prepared.append(destination)
    try await task.value
  }

  /// Notes that these destinations took an image.
  func use(_ destinations: [any ImageDestination]) { used.formUnion(destinations.map(\.identity)) }

  /// Whether a destination took an image.
  func took(_ destination: any ImageDestination) -> Bool { used.contains(destination.identity) }
}
