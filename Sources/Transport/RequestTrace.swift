import AsyncHTTPClient
import NIOCore

/// The request-path layer behind `--debug`: one line per exchange (method, URL, status or failure), with
/// what could be a secret left out: no headers, no user info, no query (tokens and S3 signatures live there).
public struct RequestTrace: HTTPSender {
  let next: any HTTPSender
  let trace: @Sendable (String) -> Void

  public init(over next: any HTTPSender, trace: @escaping @Sendable (String) -> Void) {
    self.next = next
    self.trace = trace
  }

  public func send(
    _ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend
  ) async throws -> HTTPClientResponse {
    let line = "\(request.method.rawValue) \(Self.redacted(request.url))"
    do {
      let response = try await next.send(request, timeout: timeout, resend: resend)
      trace("\(line) -> \(response.status.code)")
      return response
    } catch {
      trace("\(line) -> \(error)")
      throw error
    }
  }

  /// A URL without its query, fragment and user info.
  public static func redacted(_ url: String) -> String {
    var text = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    text = text.split(separator: "#", maxSplits: 1).first.map(String.init) ?? text
    if let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].firstIndex(of: "@"),
      !text[schemeEnd.upperBound..<at].contains("/")
    {
      text.removeSubrange(schemeEnd.upperBound...at)
    }
    return text
  }
}
