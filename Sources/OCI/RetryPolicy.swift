/// How often and how patiently a failed operation is tried again: exponential backoff with jitter, and a
/// server's `Retry-After` honoured up to a cap.
public struct RetryPolicy: Sendable, Equatable {
  /// How many times to try again after the first failure (`--retries`).
  public var attempts: Int
  /// The first wait, in seconds; each later one doubles, up to `maximumDelay`.
  public var baseDelay: Double
  public var maximumDelay: Double

  public init(attempts: Int = 5, baseDelay: Double = 0.5, maximumDelay: Double = 30) {
    self.attempts = attempts
    self.baseDelay = baseDelay
    self.maximumDelay = maximumDelay
  }

  /// How many times a request the server throttled (429, an AWS throttling code) is sent again: four times
  /// `attempts`, apart from them. A throttle is the server setting the pace, which the request limiter
  /// follows for every request to it, not a failure of the operation.
  public var throttledAttempts: Int { attempts * 4 }

  /// The longest `Retry-After` honoured, for one request's next try and for the pause of every request to
  /// the server: twice `maximumDelay`.
  public var longestRetryAfter: Double { maximumDelay * 2 }

  /// Seconds to wait before try number `attempt` (1 for the first retry); `retryAfter` is what the
  /// server asked for, if anything, capped at twice `maximumDelay`.
  public func delay(attempt: Int, retryAfter: Double? = nil) -> Double {
    if let retryAfter { return min(max(retryAfter, 0), longestRetryAfter) }
    let exponential = min(maximumDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
    return exponential * Double.random(in: 0.8...1.2)
  }

  /// The longest an operation can spend waiting between its tries when no server asks for more:
  /// 18.6 s with the defaults (0.5 + 1 + 2 + 4 + 8 seconds, each up to 20 % longer).
  public var longestBackoff: Double {
    (0..<attempts).reduce(0) { $0 + min(maximumDelay, baseDelay * Double(1 << min($1, 20))) } * 1.2
  }
}
