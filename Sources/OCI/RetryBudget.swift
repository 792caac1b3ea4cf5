import Synchronization

/// The tries one operation may still make, shared by every level that can repeat part of it, so that
/// `--retries N` means at most N + 1 attempts in all: a blob's upload session, its chunks and its requests
/// draw from the blob's budget, never N each.
///
/// The level that owns an operation (the copy engine for a blob, the registry client for a lone request)
/// makes the budget and hands it down as a value: to sources and destinations (`drawing(on:)`), to the
/// client's requests, and to the request path in their `Resend`.
public final class RetryBudget: Sendable {
  public let policy: RetryPolicy
  /// Retries granted after failures, and after throttles.
  private let granted = Mutex((failures: 0, throttles: 0))

  public init(policy: RetryPolicy) { self.policy = policy }

  /// Tries made so far: the first one and every retry granted, after failures and throttles.
  public var attempts: Int { granted.withLock { $0.failures + $0.throttles } + 1 }

  /// Grants one more try after a failure of `category` and waits the backoff before it (or `retryAfter`,
  /// what the server asked for); false when the failure will not pass, the budget is spent, or the task was
  /// cancelled. A throttle draws on the throttles' own allowance (`RetryPolicy.throttledAttempts`), its
  /// backoff growing no further than a failure's last.
  public func retry(after category: ErrorCategory, retryAfter: Double? = nil) async -> Bool {
    guard category.isTransient, !Task.isCancelled else { return false }
    let throttle = category == .throttled
    let attempt: Int? = granted.withLock { granted in
      if throttle {
        guard granted.throttles < policy.throttledAttempts else { return nil }
        granted.throttles += 1
        return granted.throttles
      }
      guard granted.failures < policy.attempts else { return nil }
      granted.failures += 1
      return granted.failures
    }
    guard let attempt else { return false }
    return await wait(policy.delay(attempt: min(attempt, max(policy.attempts, 1)), retryAfter: retryAfter))
  }

  private func wait(_ seconds: Double) async -> Bool {
    do {
      try await pause(seconds: seconds)
    } catch {
      return false
    }
    return true
  }
}
