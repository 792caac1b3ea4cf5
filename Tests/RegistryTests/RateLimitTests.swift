import NIOHTTP1
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
