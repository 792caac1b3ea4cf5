import AsyncHTTPClient
import Foundation
import NIOCore

/// The request-path layer that follows redirects (up to five), as registries use them to send blobs to
/// storage (S3, CDNs): `Authorization` is dropped when a redirect leaves the original scheme, host and port,
/// and a redirect from HTTPS to plain HTTP is refused.
public struct Redirects: HTTPSender {
  let next: any HTTPSender

  public init(over next: any HTTPSender) { self.next = next }

  public func send(
    _ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend
  ) async throws -> HTTPClientResponse {
    var request = request
    for _ in 0..<6 {
      let response = try await next.send(request, timeout: timeout, resend: resend)
      guard [301, 302, 303, 307, 308].contains(response.status.code),
        let location = response.headers.first(name: "Location"),
        let url = URLComponents(string: request.url),
        let target = URL(string: location, relativeTo: URL(string: request.url))?.absoluteURL,
        let redirected = URLComponents(url: target, resolvingAgainstBaseURL: false)
      else { return response }
      _ = try? await response.body.collect(upTo: 1 << 16)
      if url.scheme == "https" && redirected.scheme == "http" {
        throw TransportError.insecureRedirect(from: request.url, to: target.absoluteString)
      }
      if redirected.scheme != url.scheme || redirected.host != url.host || redirected.port != url.port {
        request.headers.remove(name: "Authorization")
      }
      if response.status.code == 303 {
        request.method = .GET
        request.body = nil
      }
      request.url = target.absoluteString
    }
    throw TransportError.tooManyRedirects(request.url)
  }
}
