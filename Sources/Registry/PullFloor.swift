import Foundation
import OCI

/// Keeps a registry's stated pull limit from being spent below a floor (`sync --min-remaining`). Before a
/// manifest GET, when it would take the remaining count under the floor, it waits until the window starts
/// again (`pause`) or refuses (`stop`). The count is the registry's last stated one less the GETs still in
/// flight. With no limit stated, nothing changes.
public actor PullFloor {
  /// What happens at the floor.
  public enum Action: String, Sendable, CaseIterable {
    case pause, stop
  }

  let floor: Int
  let action: Action
  /// Told when a pause starts (the progress line).
  let notify: @Sendable (String) -> Void
  /// The count the registry last stated; the GETs in flight since are counted apart (`inFlight`).
  private var remaining: Int?
  private var inFlight = 0
  /// When the window starts again: the stated reset, else a whole window from the last answer, else a
  /// minute from it (a count stated with neither).
  private var windowEnds: Date?
  /// Whether the count was read (a HEAD, which Docker Hub does not count) since the last window ended.
  private var read = false
  /// The reading under way, which every GET that comes meanwhile waits for.
  private var reading: Task<RateLimit?, Never>?

  public init(floor: Int, action: Action, notify: @escaping @Sendable (String) -> Void) {
    (self.floor, self.action, self.notify) = (floor, action, notify)
  }

  /// What `sync --min-remaining` asks of every source registry: the floor, what happens there, and where a
  /// pause is told.
  public struct Setting: Sendable {
    public var floor: Int
    public var action: Action
    public var notify: @Sendable (String) -> Void

    public init(floor: Int, action: Action, notify: @escaping @Sendable (String) -> Void) {
      (self.floor, self.action, self.notify) = (floor, action, notify)
    }
  }

  /// Waits, or throws `PullFloorReached`, until a manifest GET to `host` keeps the count at the floor or
  /// above; then counts the GET as in flight. The first GET, and the first after a window, asks `reading`
  /// (a HEAD) for the count before any GET spends it.
  func admit(host: String, reading read: @escaping @Sendable () async throws -> RateLimit?) async throws {
    while true {
      if !self.read {
        self.read = true
        reading = Task { try? await read() }
      }
      if let pending = reading {
        let limit = await pending.value
        if reading == pending {
          reading = nil
          if let limit { take(limit) }
        }
      }
      guard let left = remaining, left - inFlight - 1 < floor else { break }
      guard action == .pause, let ends = windowEnds else {
        throw PullFloorReached(host: host, remaining: left - inFlight, floor: floor)
      }
      notify("\(host) has \(left - inFlight) pulls left (floor \(floor)): waiting until \(ends) for its window")
      try await pause(seconds: ends.timeIntervalSinceNow)
      if windowEnds == ends { (remaining, self.read) = (nil, false) }
    }
    inFlight += 1
  }

  /// Takes the limit a manifest answer stated (nil: none, or the request failed) and ends its GET.
  func note(_ limit: RateLimit?) {
    inFlight = max(0, inFlight - 1)
    if let limit { take(limit) }
  }

  /// Takes a stated count. Within a window the count only falls, so answers that arrive out of order (GETs
  /// at once) keep the lowest; only a reading after the window ended raises it.
  private func take(_ limit: RateLimit) {
    guard let left = limit.remaining else { return }
    remaining = min(remaining ?? left, left)
    windowEnds = Date().addingTimeInterval(Double(limit.resetSeconds ?? limit.windowSeconds ?? 60))
  }
}

/// A sync stopped at its pull floor (`--min-remaining-action stop`).
public struct PullFloorReached: CategorizedError, CustomStringConvertible {
  public var host: String
  public var remaining: Int
  public var floor: Int

  public var description: String {
    "\(host) has \(remaining) pulls left in its window, and --min-remaining is \(floor): stopped before this image; "
      + "run the sync again once the window starts again"
  }

  public var category: ErrorCategory { .rejected }
}
