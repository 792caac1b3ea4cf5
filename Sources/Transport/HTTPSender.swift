import AsyncHTTPClient
import NIOCore

/// One HTTP exchange: a request, whose body may stream, in; a response, whose body streams, out. This is
/// the seam everything that speaks HTTP sends through: `HTTPTransport` (AsyncHTTPClient) in production, the
/// request-path layers over it, and a scripted fake in unit tests.
public protocol HTTPSender: Sendable {
  /// Sends `request`. `resend` says whether and how the `Retries` layer may send it again; the other
  /// layers pass it on. Failures to connect are thrown as `ConnectionFailure`.
  func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse
}

extension HTTPClientRequest {
  /// Whether sending the request twice does no harm, by its method (GET, HEAD, PUT, DELETE).
  public var isIdempotent: Bool { [.GET, .HEAD, .PUT, .DELETE].contains(method) }
}
