import NIOHTTP1
import Synchronization
import Testing

@testable import Registry

@Suite struct RateLimitTests {
  @Test func readsDockerHubsFormAndTheDrafts() {
    let hub = HTTPHeaders([
      ("ratelimit-limit", "100;w=21600"), ("RateLimit-Remaining", " 76 ; w=21600"),
      ("docker-ratelimit-source", "192.0.2.7"),
    ])
    #expect(
      RateLimit(headers: hub)
        == RateLimit(limit: 100, remaining: 76, windowSeconds: 21600, source: "192.0.2.7"))
    let draft = HTTPHeaders([("RateLimit-Limit", "10"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "42")])
    #expect(RateLimit(headers: draft) == RateLimit(limit: 10, remaining: 0, resetSeconds: 42))
    #expect(RateLimit(headers: draft)?.summary == "0 of 10 left, resets in 42 s")
  }

  @Test func statesNothingWithoutCounts() {
    #expect(RateLimit(headers: HTTPHeaders()) == nil)
    #expect(RateLimit(headers: HTTPHeaders([("docker-ratelimit-source", "x")])) == nil)
    for bad in ["-1", "nan", "1e9", "99999999999999999999", "", ";w=5", "12abc"] {
      #expect(
        RateLimit(headers: HTTPHeaders([("RateLimit-Limit", bad), ("RateLimit-Remaining", bad)])) == nil, "\(bad)")
    }
  }
}

@Suite struct PullFloorTests {
  final class Readings: Sendable {
    let count = Mutex(0)
  }

  @Test func stopsBeforeAGetWouldSpendTheCountUnderTheFloor() async throws {
    let floor = PullFloor(floor: 3, action: .stop, notify: { _ in })
    let readings = Readings()
    let reading: @Sendable () async throws -> RateLimit? = {
      readings.count.withLock { $0 += 1 }
      return RateLimit(limit: 5, remaining: 5, windowSeconds: 60)
    }
    try await floor.admit(host: "hub", reading: reading)
    try await floor.admit(host: "hub", reading: reading)
    await #expect(throws: PullFloorReached.self) { try await floor.admit(host: "hub", reading: reading) }
    // Answers out of order: the later, higher count does not raise it within the window.
    await floor.note(RateLimit(remaining: 3, windowSeconds: 60))
    await floor.note(RateLimit(remaining: 4, windowSeconds: 60))
    await #expect(throws: PullFloorReached.self) { try await floor.admit(host: "hub", reading: reading) }
    #expect(readings.count.withLock { $0 } == 1)
  }

  @Test func aRegistryThatStatesNoLimitIsNotSlowed() async throws {
    let floor = PullFloor(floor: 1_000, action: .stop, notify: { _ in })
    for _ in 0..<20 {
      try await floor.admit(host: "plain") { nil }
      await floor.note(nil)
    }
  }

  @Test func pausesUntilTheWindowEndsThenReadsTheCountAgain() async throws {
    let notes = Mutex([String]())
    let floor = PullFloor(floor: 1, action: .pause, notify: { line in notes.withLock { $0.append(line) } })
    let readings = Readings()
    let reading: @Sendable () async throws -> RateLimit? = {
      readings.count.withLock { $0 += 1 }
      return RateLimit(limit: 2, remaining: 2, resetSeconds: 1)
    }
    try await floor.admit(host: "hub", reading: reading)
    await floor.note(RateLimit(remaining: 1, resetSeconds: 1))
    let clock = ContinuousClock()
    let started = clock.now
    try await floor.admit(host: "hub", reading: reading)
    #expect(clock.now - started >= .milliseconds(900))
    #expect(readings.count.withLock { $0 } == 2)
    #expect(notes.withLock { $0.first?.contains("pulls left (floor 1): waiting until") } == true)
  }
}
