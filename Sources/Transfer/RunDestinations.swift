import OCI

/// The destinations of one run of the engine: each prepared once, however many copies run at once, which
/// of them took an image (those are committed, the others abandoned), and which registry repositories a
/// copy is writing into now.
actor RunDestinations {
  private var preparing = [AnyHashable: Task<Void, any Error>]()
  private var writing = Set<String>()
  private var waitingForTurn = [CheckedContinuation<Void, Never>]()
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

  /// Waits until no other copy of the run writes into any of these repositories, then holds them until
  /// `endTurn`. Copies into one repository take turns: two writers of the same blob or manifest into one
  /// repository at once trip registries that rewrite its link files in place (distribution answers a
  /// manifest with MANIFEST_BLOB_UNKNOWN while another writer relinks its config).
  func takeTurn(_ repositories: Set<String>) async {
    while !writing.isDisjoint(with: repositories) {
      await withCheckedContinuation { waitingForTurn.append($0) }
    }
    writing.formUnion(repositories)
  }

  /// Frees the repositories for the copies waiting for them.
  func endTurn(_ repositories: Set<String>) {
    writing.subtract(repositories)
    let waiting = waitingForTurn
    waitingForTurn = []
    for waiter in waiting { waiter.resume() }
  }

  /// The order to start copies in: repositories taken in turn (the first copy for each, then the second for
  /// each, …), so that copies at once go to different repositories; copies into files keep their places.
  static func startOrder(_ repositories: [String?]) -> [Int] {
    var queues = [String: [Int]]()
    var firsts = [String]()
    for (position, repository) in repositories.enumerated() {
      let key = repository ?? "#\(position)"
      if queues[key] == nil { firsts.append(key) }
      queues[key, default: []].append(position)
    }
    var order = [Int]()
    var round = 0
    while order.count < repositories.count {
      for key in firsts where round < queues[key]!.count { order.append(queues[key]![round]) }
      round += 1
    }
    return order
  }
}

extension ImageDestination {
  /// The registry repository this destination writes into, `registry/repository`; nil for files.
  var repositoryKey: String? { location.map { "\($0.registry)/\($0.repository)" } }
}
