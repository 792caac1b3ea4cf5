/// How many requests one registry (or AWS endpoint) gets at once, decided as TCP decides its window:
/// halved when the server throttles, grown by one for each window's worth of successes, back up to
/// `ceiling`. A throttle answering a request sent before the last cut says nothing new and cuts nothing.
public struct RequestWindow: Sendable, Equatable {
  /// The most requests at once; far above what a run keeps in flight, so a server that never throttles
  /// never waits for the window.
  public static let ceiling = 64.0

  /// The window, fractional so that it grows smoothly.
  public private(set) var size = ceiling
  /// The number of the first request sent after the last cut.
  private var firstAfterCut: UInt64 = 0

  public init() {}

  /// How many requests may be in flight now.
  public var allowed: Int { max(1, Int(size)) }

  /// A request answered without a throttle.
  public mutating func succeeded() { size = min(Self.ceiling, size + 1 / size) }

  /// A request numbered `request` was throttled; `next` is the number the next request will get. Returns
  /// whether the window was cut.
  @discardableResult
  public mutating func throttled(request: UInt64, next: UInt64) -> Bool {
    guard request >= firstAfterCut else { return false }
    size = max(1, size / 2)
    firstAfterCut = next
    return true
  }
}
