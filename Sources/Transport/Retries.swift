import AsyncHTTPClient
import Foundation
import NIOCore
import OCI

/// The request-path layer that decides whether a request is sent again: the one place to read for "when
/// does hoist try again?".
///
/// A try fails for a reason that may pass (`PassingFailure`: a broken connection, 408, 429, 5xx but 501, an
/// AWS throttling code) → the request goes again while the `RetryBudget` its `Resend` carries lasts (its
/// operation's, or one of this request's own), waiting the backoff or the server's `Retry-After`, if its `Resend` allows.
/// When a failed try may have been acted on (the answer was lost, cut off, or a 5xx came), the registry's
/// state decides, not the last status: the request's `look` is asked before the next try (`looksFirst`), or
/// when a later try is refused or the tries run out, and its answer stands in for the lost one.
public struct Retries: HTTPSender {
  let next: any HTTPSender
  let policy: RetryPolicy

  public init(over next: any HTTPSender, policy: RetryPolicy) {
    self.next = next
    self.policy = policy
  }

  public func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse
  {
    try await send(request, timeout: timeout, resend: resend, budget: resend.budget ?? RetryBudget(policy: policy))
  }

  private func send(
    _ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend, budget: RetryBudget
  ) async throws -> HTTPClientResponse {
    var lost = false
    // What the registry says happened, asked once per lost answer.
    func settled() async -> HTTPClientResponse? {
      guard lost, let look = resend.look else { return nil }
      lost = false
      return try? await look()
    }
    while true {
      let outcome: Outcome
      do {
        outcome = try await exchange(request, timeout: timeout, resend: resend)
      } catch is CancellationError {
        throw CancellationError()
      } catch let error as TransportError {
        throw error
      } catch {
        lost = lost || PassingFailure.mayHaveActed(error)
        if resend.looksFirst, let answer = await settled() { return answer }
        if resend.repeatable, await budget.retry(after: ErrorCategory(of: error)) { continue }
        if let answer = await settled() { return answer }
        throw error
      }
      switch outcome {
      case .answered(let response):
        if !(200..<300).contains(response.status.code), let answer = await settled() { return answer }
        return response
      case .passing(let response, let retryAfter, let throttled):
        lost = lost || PassingFailure.mayHaveActed(status: response.status.code)
        if resend.looksFirst, let answer = await settled() { return answer }
        if resend.repeatable, await budget.retry(after: throttled ? .throttled : .transient, retryAfter: retryAfter) {
          continue
        }
        if let answer = await settled() { return answer }
        return response
      }
    }
  }

  private enum Outcome {
    /// An answer that stands: a success, or a refusal that will not pass.
    case answered(HTTPClientResponse)
    /// An answer saying the request may pass later, its body read; `throttled` when it sets a pace.
    case passing(HTTPClientResponse, retryAfter: Double?, throttled: Bool)
  }

  /// One try: the answer, with its body read whole when the request asks for that, and for every failure
  /// whose body tells whether it passes (read whole so that it can be handed on intact if no try is left).
  private func exchange(
    _ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend
  ) async throws -> Outcome {
    let response = try await next.send(request, timeout: timeout, resend: resend)
    let status = response.status.code
    let failed = PassingFailure.status(status) || status == 400
    guard failed || resend.wholeAnswer != nil else { return .answered(response) }
    let limit = failed ? max(resend.wholeAnswer ?? 0, 1 << 16) : resend.wholeAnswer!
    let body: ByteBuffer
    do {
      body = try await response.body.collect(upTo: limit)
    } catch is CancellationError {
      throw CancellationError()
    } catch is NIOTooManyBytesError {
      // A failure's body is only read to classify it; one too large to read is judged by its status.
      let whole = Self.with(response, body: ByteBuffer())
      guard !failed else {
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Self.seconds(retryAfter:))
        return PassingFailure.status(status)
          ? .passing(whole, retryAfter: retryAfter, throttled: PassingFailure.throttles(status: status, awsCode: nil))
          : .answered(whole)
      }
      throw TransportError.answerTooLarge(limit: limit)
    } catch {
      throw ConnectionFailure(error)
    }
    let whole = Self.with(response, body: body)
    guard PassingFailure.answer(status: status, body: body) else { return .answered(whole) }
    let retryAfter = response.headers.first(name: "Retry-After").flatMap(Self.seconds(retryAfter:))
    return .passing(whole, retryAfter: retryAfter, throttled: PassingFailure.throttles(status: status, body: body))
  }

  /// The response with a body already read.
  static func with(_ response: HTTPClientResponse, body: ByteBuffer) -> HTTPClientResponse {
    HTTPClientResponse(
      version: response.version, status: response.status, headers: response.headers, body: .bytes(body))
  }

  /// A `Retry-After` value (seconds, or an HTTP date) as seconds from now.
  static func seconds(retryAfter text: String) -> Double? {
    if let seconds = Double(text.trimmingCharacters(in: .whitespaces)) {
      return seconds.isFinite && seconds >= 0 ? seconds : nil
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: text).map { max(0, $0.timeIntervalSinceNow) }
  }
}

/// How the layers of every request path are stacked below authentication, in the order a request passes
/// them: `Retries`, `Redirects`, `Limiter` (the session's per-host limits), `RequestTrace` (with `--debug`),
/// then the base (`HTTPTransport`).
public enum RequestPath {
  public static func over(_ base: any HTTPSender, options: TransportOptions) -> any HTTPSender {
    var sender = base
    if let trace = options.trace { sender = RequestTrace(over: sender, trace: trace) }
    return Retries(over: Redirects(over: Limiter(over: sender, limits: options.limits)), policy: options.retryPolicy)
  }
}
