import AsyncHTTPClient
import Foundation
import NIOCore
import OCI

/// The request-path layer that decides whether a request is tried again: after a connection failure that
/// may pass, or an answer saying the request was not processed (408, 429) or the server failed (5xx but
/// 501), and only when the request is repeatable. The tries come out of the operation's `RetryBudget`
/// (its owner's, or one of this request's own), so no retry happens at this level and again above it.
public struct Retries: HTTPSender {
  let next: any HTTPSender
  let policy: RetryPolicy

  public init(over next: any HTTPSender, policy: RetryPolicy) {
    self.next = next
    self.policy = policy
  }

  public func send(
    _ request: HTTPClientRequest, timeout: TimeAmount, repeatable: Bool
  ) async throws -> HTTPClientResponse {
    let budget = RetryBudget.current ?? RetryBudget(policy: policy)
    while true {
      let response: HTTPClientResponse
      do {
        response = try await next.send(request, timeout: timeout, repeatable: repeatable)
      } catch {
        if repeatable, await budget.retry(after: ErrorCategory(of: error)) { continue }
        throw error
      }
      let status = response.status.code
      guard repeatable, Self.passing(status) else { return response }
      // The answer is read whole, to be handed on intact if no try is left.
      let body = (try? await response.body.collect(upTo: 1 << 16)) ?? ByteBuffer()
      let retryAfter = response.headers.first(name: "Retry-After").flatMap(Self.seconds(retryAfter:))
      if await budget.retry(after: .transient, retryAfter: retryAfter) { continue }
      return HTTPClientResponse(
        version: response.version, status: response.status, headers: response.headers, body: .bytes(body))
    }
  }

  /// Statuses that say the request may succeed if sent again.
  public static func passing(_ status: UInt) -> Bool {
    status == 408 || status == 429 || ((500...599).contains(status) && status != 501)
  }

  /// A `Retry-After` value (seconds, or an HTTP date) as seconds from now.
  static func seconds(retryAfter text: String) -> Double? {
    if let seconds = Double(text.trimmingCharacters(in: .whitespaces)) { return seconds }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: text).map { max(0, $0.timeIntervalSinceNow) }
  }
}

/// How the layers of every request path are stacked below authentication, in the order a request passes
/// them: `Retries`, `Redirects`, `RequestTrace` (with `--debug`), then the base (`HTTPTransport`).
public enum RequestPath {
  public static func over(_ base: any HTTPSender, options: TransportOptions) -> any HTTPSender {
    var sender = base
    if let trace = options.trace { sender = RequestTrace(over: sender, trace: trace) }
    return Retries(over: Redirects(over: sender), policy: options.retryPolicy)
  }
}
