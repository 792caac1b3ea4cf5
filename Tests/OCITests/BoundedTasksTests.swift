import Synchronization
import Testing

@testable import OCI

@Suite struct BoundedTasksTests {
  /// The most tasks running at once, counted as they start and end.
  final class Running: Sendable {
    let counts = Mutex((now: 0, most: 0))
    func start() {
      counts.withLock {
        $0.now += 1
        $0.most = max($0.most, $0.now)
      }
    }
    func end() { counts.withLock { $0.now -= 1 } }
  }

  struct Refused: Error {}

  @Test func runsEveryTaskAtMostWidthAtOnceAndLetsFinishedAddMore() async {
    let running = Running()
    var pending = Array(0..<20)[...]
    var added = false
    var done = [Int]()
    await runBounded(width: 3) { () -> (@Sendable () async -> Int)? in
      guard let value = pending.popFirst() else { return nil }
      return {
        running.start()
        try? await Task.sleep(for: .milliseconds(2))
        running.end()
        return value
      }
    } finished: { value in
      done.append(value)
      if !added {
        added = true
        pending.append(100)
      }
    }
    #expect(done.sorted() == Array(0..<20) + [100])
    #expect(running.counts.withLock { $0.most } == 3)
  }

  @Test func theFirstFailureIsThrownAndNoNewTaskStarts() async {
    var pending = Array(0..<50)[...]
    var started = 0
    await #expect(throws: Refused.self) {
      try await runBounded(width: 2) { () -> (@Sendable () async throws -> Int)? in
        guard let value = pending.popFirst() else { return nil }
        started += 1
        return {
          if value == 3 { throw Refused() }
          return value
        }
      } finished: { _ in
      }
    }
    #expect(started < 50)
  }

  @Test func aFailureOfFinishedStopsTheRunToo() async {
    var pending = Array(0..<10)[...]
    await #expect(throws: Refused.self) {
      try await runBounded(width: 4) { () -> (@Sendable () async throws -> Int)? in
        guard let value = pending.popFirst() else { return nil }
        return { value }
      } finished: { value in
        if value == 5 { throw Refused() }
      }
    }
  }
}
