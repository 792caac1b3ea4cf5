/// How often and how patiently a failed request or transfer is tried again: exponential backoff with
/// jitter, and a server's `Retry-After` honoured up to a cap.
public struct RetryPolicy: Sendable, Equatable {
  /// How many times to try again after the first failure.
  public var attempts: Int
  /// The first wait, in seconds; each later one doubles, up to `maximumDelay`.
  public var baseDelay: Double
  public var maximumDelay: Double

  public init(attempts: Int = 5, baseDelay: Double = 0.5, maximumDelay: Double = 30) {
    self.attempts = attempts
    self.baseDelay = baseDelay
    self.maximumDelay = maximumDelay
  }

  /// Seconds to wait before try number `attempt` (1 for the first retry); `retryAfter` is what the
  /// server asked for, if anything, capped at twice `maximumDelay`.
  public func delay(attempt: Int, retryAfter: Double? = nil) -> Double {
    if let retryAfter { return min(max(retryAfter, 0), maximumDelay * 2) }
    let exponential = min(maximumDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
    return exponential * Double.random(in: 0.8...1.2)
  }
}

/// An error that may not happen again if the same thing is tried a little later (a dropped connection,
/// a 503), as opposed to one that will (a wrong digest, a refused password).
public protocol TransientError: Error {
  var isTransient: Bool { get }
}
