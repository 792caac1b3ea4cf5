import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Transport

@Suite struct RequestLimitsTests {
  @Test func aThrottleHalvesTheWindowOncePerRoundOfRequests() {
    var window = RequestWindow()
    #expect(window.allowed == 64)
    let cut = window.throttled(request: 1, next: 11)
    #expect(cut && window.allowed == 32)
    // Requests 2 to 10 were sent before the cut: their throttles are the same news.
    let again = window.throttled(request: 5, next: 12)
    #expect(!again && window.allowed == 32)
    let later = window.throttled(request: 11, next: 13)
    #expect(later && window.allowed == 16)
  }

  @Test func theWindowNeverClosesAndGrowsBackWithSuccesses() {
    var window = RequestWindow()
    for request in UInt64(1)...20 { window.throttled(request: request * 100, next: request * 100 + 1) }
    #expect(window.allowed == 1)
    for _ in 0..<10 { window.succeeded() }
    #expect(window.allowed > 1)
    for _ in 0..<5000 { window.succeeded() }
    #expect(window.allowed == 64)
  }

  @Test func throttlesAreRecognisedFromRegistriesAndAWS() async throws {
    func outcome(_ status: HTTPResponseStatus, _ headers: [(String, String)] = [], body: String = "") async throws
      -> HostLimiter.Outcome
    {
      var response = HTTPClientResponse(status: status, headers: HTTPHeaders(headers))
      response.body = .bytes(ByteBuffer(string: body))
      return try await Limiter.outcome(of: response).0
    }
    #expect(try await outcome(.tooManyRequests, [("Retry-After", "3")]) == .throttled(retryAfter: 3))
    #expect(try await outcome(.serviceUnavailable) == .throttled(retryAfter: nil))
    #expect(try await outcome(.ok) == .succeeded)
    #expect(try await outcome(.notFound) == .neutral)
    #expect(
      try await outcome(.badRequest, [("x-amzn-ErrorType", "ThrottlingException:http://internal")])
        == .throttled(retryAfter: nil))
    let json = #"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#
    #expect(
      try await outcome(.badRequest, [("Content-Length", "\(json.utf8.count)")], body: json)
        == .throttled(retryAfter: nil))
    #expect(
      try await outcome(.badRequest, [("Content-Length", "2")], body: "{}") == .neutral)
  }

  @Test func aThrottledHostLetsOneRequestAtATimeAndThrottlesNoOther() async throws {
    let limits = RequestLimits()
    let busy = limits.limiter(for: "busy:5000")
    for _ in 0..<8 {
      let number = try await busy.start(counted: true)
      await busy.finished(number, .throttled(retryAfter: nil), counted: true)
    }
    #expect(await busy.window.allowed == 1)
    // With one request in flight, a streamed body still starts: it takes no room in the window.
    let held = try await busy.start(counted: true)
    let streamed = try await busy.start(counted: false)
    await busy.finished(streamed, .succeeded, counted: false)
    await busy.finished(held, .succeeded, counted: true)
    #expect(await limits.limiter(for: "calm:5000").window.allowed == 64)
    #expect(limits.limiter(for: "busy:5000") === busy, "one limiter per host, shared")
  }

  @Test func aRetryAfterPausesEveryRequestToTheHost() async throws {
    let limiter = HostLimiter(perSecond: nil, longestPause: 60)
    let first = try await limiter.start(counted: true)
    await limiter.finished(first, .throttled(retryAfter: 0.3), counted: true)
    let clock = ContinuousClock()
    let waited = try await clock.measure { _ = try await limiter.start(counted: false) }
    #expect(waited >= .milliseconds(250))
  }
}
