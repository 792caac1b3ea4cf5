import AsyncHTTPClient
import Foundation
import NIOCore
import OCI
import Synchronization

/// The request limits of a session: one `HostLimiter` per host, shared by every client, image and blob
/// that speaks to it, and a ceiling on requests per second (`--max-requests-per-second`), if given.
public final class RequestLimits: Sendable {
  let perSecond: Double?
  /// The longest pause one `Retry-After` imposes on every request to its host (`policy.longestRetryAfter`).
  let longestPause: Double
  private let hosts = Mutex<[String: HostLimiter]>([:])

  public init(perSecond: Double? = nil, policy: RetryPolicy = RetryPolicy()) {
    self.perSecond = perSecond
    longestPause = policy.longestRetryAfter
  }

  /// The limiter of a host (`host:port`).
  func limiter(for host: String) -> HostLimiter {
    hosts.withLock { hosts in
      if let limiter = hosts[host] { return limiter }
      let limiter = HostLimiter(perSecond: perSecond, longestPause: longestPause)
      hosts[host] = limiter
      return limiter
    }
  }
}

/// What one host's answers allow: requests wait for room in the `RequestWindow`, for the pause a
/// `Retry-After` asked of everyone, and for their turn under the requests-per-second ceiling.
actor HostLimiter {
  /// How an answer bears on the host's limits.
  enum Outcome: Equatable {
    case succeeded
    case throttled(retryAfter: Double?)
    /// A failure that says nothing about load (a refused connection, a 404).
    case neutral
  }

  private(set) var window = RequestWindow()
  private var inFlight = 0
  private var sent: UInt64 = 0
  private var waiting = [CheckedContinuation<Void, Never>]()
  private var pausedUntil = ContinuousClock.now
  private var nextStart = ContinuousClock.now
  private let interval: Duration?
  private let longestPause: Double

  init(perSecond: Double?, longestPause: Double) {
    interval = perSecond.map { .seconds(1 / $0) }
    self.longestPause = longestPause
  }

  /// Waits for the request's turn; returns its number, to hand back to `finished`. A request that is not
  /// `counted` in the window (one whose body streams) waits only for pauses and the pace.
  func start(counted: Bool) async throws -> UInt64 {
    while true {
      if pausedUntil > .now {
        try await Task.sleep(until: pausedUntil, clock: .continuous)
        continue
      }
      guard !counted || inFlight < window.allowed else {
        await withCheckedContinuation { waiting.append($0) }
        continue
      }
      if counted { inFlight += 1 }
      sent += 1
      let number = sent
      if let interval {
        let turn = max(ContinuousClock.now, nextStart)
        nextStart = turn + interval
        do {
          try await Task.sleep(until: turn, clock: .continuous)
        } catch {
          finished(number, .neutral, counted: counted)
          throw error
        }
      }
      return number
    }
  }

  /// Notes how request `number` ended, and lets waiting requests go where there is room.
  func finished(_ number: UInt64, _ outcome: Outcome, counted: Bool) {
    if counted { inFlight -= 1 }
    switch outcome {
    case .succeeded: window.succeeded()
    case .throttled(let retryAfter):
      window.throttled(request: number, next: sent + 1)
      if let retryAfter, retryAfter > 0 {
        pausedUntil = max(pausedUntil, .now + .seconds(min(retryAfter, longestPause)))
      }
    case .neutral: break
    }
    var room = window.allowed - inFlight
    while room > 0 && !waiting.isEmpty {
      waiting.removeFirst().resume()
      room -= 1
    }
  }
}

/// The request-path layer that keeps each host within its limits (`RequestLimits`): every try waits its
/// turn, and every answer tells the host's limiter whether the server is throttling. A request that may not
/// go again (its body streams) waits for pauses and the pace but takes no room in the window: a body that
/// streams for minutes must not keep the window shut, and a task feeding two such bodies (one blob to two
/// repositories of a registry) must not wait on itself.
public struct Limiter: HTTPSender {
  let next: any HTTPSender
  let limits: RequestLimits

  public init(over next: any HTTPSender, limits: RequestLimits) {
    self.next = next
    self.limits = limits
  }

  public func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse
  {
    guard let url = URLComponents(string: request.url), let host = url.host else {
      return try await next.send(request, timeout: timeout, resend: resend)
    }
    let limiter = limits.limiter(for: url.port.map { "\(host):\($0)" } ?? host)
    let counted = resend.repeatable
    let number = try await limiter.start(counted: counted)
    do {
      let (outcome, answer) = try await Self.outcome(of: try await next.send(request, timeout: timeout, resend: resend))
      await limiter.finished(number, outcome, counted: counted)
      return answer
    } catch {
      await limiter.finished(number, .neutral, counted: counted)
      throw error
    }
  }

  /// Whether an answer asks the host to slow down (`PassingFailure.slowsDown`), an AWS 400's code read from
  /// its `x-amzn-ErrorType` header or a small body (handed on whole). Returns the answer to hand on.
  static func outcome(of response: HTTPClientResponse) async throws -> (HostLimiter.Outcome, HTTPClientResponse) {
    let status = response.status.code
    let retryAfter = response.headers.first(name: "Retry-After").flatMap(Retries.seconds(retryAfter:))
    let outcome = { (code: String?) -> HostLimiter.Outcome in
      if PassingFailure.slowsDown(status: status, awsCode: code) { return .throttled(retryAfter: retryAfter) }
      return status < 400 ? .succeeded : .neutral
    }
    guard status == 400 else { return (outcome(nil), response) }
    if let header = response.headers.first(name: "x-amzn-ErrorType") {
      return (outcome(PassingFailure.awsCode(header: header)), response)
    }
    guard let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length <= 1 << 16 else {
      return (.neutral, response)
    }
    let body: ByteBuffer
    do {
      body = try await response.body.collect(upTo: length)
    } catch is CancellationError {
      throw CancellationError()
    } catch {
      throw ConnectionFailure(error)
    }
    return (outcome(PassingFailure.awsCode(in: Data(body.readableBytesView))), Retries.with(response, body: body))
  }
}
