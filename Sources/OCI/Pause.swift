/// Waits `seconds`, however that number was made: one that is not positive and finite (a `Retry-After: nan`,
/// a negative interval) does not wait, and no wait is longer than a day.
public func pause(seconds: Double) async throws {
  guard seconds.isFinite, seconds > 0 else { return }
  try await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1e9))
}
