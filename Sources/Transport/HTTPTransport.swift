import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP/1.1 clients hoist talks through (one per proxy choice), with TLS set up once and
/// redirects followed by hand so that credentials never follow a request to another host.
public final class HTTPTransport: Sendable {
  private let direct: HTTPClient
  private let viaProxy: [ProxySettings.Server: HTTPClient]
  public let options: TransportOptions

  /// A response whose body has not been read yet.
  public typealias Response = HTTPClientResponse

  public init(options: TransportOptions) throws {
    self.options = options
    var tls = TLSConfiguration.makeClientConfiguration()
    if options.insecure { tls.certificateVerification = .none }
    if let store = options.trustStoreFile {
      _ = try Self.loadCertificates(store, option: "SSL_CERT_FILE")
      tls.trustRoots = .file(store)
    }
    if let caFile = options.caFile {
      tls.additionalTrustRoots = [.certificates(try Self.loadCertificates(caFile, option: "--ca-file"))]
    }
    func makeClient(_ proxy: ProxySettings.Server?) -> HTTPClient {
      var configuration = HTTPClient.Configuration(
        tlsConfiguration: tls, redirectConfiguration: .disallow,
        timeout: .init(connect: .seconds(30), read: .seconds(300)))
      configuration.httpVersion = .http1Only
      configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
      // A refused connection or an unknown host fails the request at once instead of being retried until its deadline.
      configuration.connectionPool.retryConnectionEstablishment = false
      if let proxy {
        let authorization = proxy.username.map {
          HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "")
        }
        configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
      }
      return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
    direct = makeClient(nil)
    var proxied = [ProxySettings.Server: HTTPClient]()
    for server in [options.proxies.https, options.proxies.http].compactMap({ $0 }) where proxied[server] == nil {
      proxied[server] = makeClient(server)
    }
    viaProxy = proxied
  }

  private static func loadCertificates(_ path: String, option: String) throws -> [NIOSSLCertificate] {
    do {
      let certificates = try NIOSSLCertificate.fromPEMFile(path)
      guard !certificates.isEmpty else { throw TransportError.badCertificateFile(option: option, path: path) }
      return certificates
    } catch {
      throw TransportError.badCertificateFile(option: option, path: path)
    }
  }

  /// Closes every connection; call once when done.
  public func shutdown() async {
    try? await direct.shutdown()
    for client in viaProxy.values { try? await client.shutdown() }
  }

  /// The scheme hoist uses for a registry host.
  public func scheme(for host: String) -> String {
    options.plainHTTPHosts.contains(host) ? "http" : "https"
  }

  /// Sends a request, following up to five redirects. `Authorization` is dropped when a redirect
  /// leaves the original scheme and host; a redirect from HTTPS to HTTP is refused.
  public func send(_ request: HTTPClientRequest, timeout: TimeAmount = .hours(12)) async throws -> Response {
    var request = request
    for _ in 0..<6 {
      guard let url = URLComponents(string: request.url), let scheme = url.scheme, let host = url.host else {
        throw TransportError.badURL(request.url)
      }
      let client = options.proxies.server(scheme: scheme, host: host).flatMap { viaProxy[$0] } ?? direct
      let response = try await client.execute(request, timeout: timeout)
      trace(request, response.status.code)
      guard [301, 302, 303, 307, 308].contains(response.status.code),
        let location = response.headers.first(name: "Location"),
        let next = URL(string: location, relativeTo: URL(string: request.url))?.absoluteURL,
        let nextComponents = URLComponents(url: next, resolvingAgainstBaseURL: false)
      else { return response }
      _ = try? await response.body.collect(upTo: 1 << 16)
      if scheme == "https" && nextComponents.scheme == "http" {
        throw TransportError.insecureRedirect(from: request.url, to: next.absoluteString)
      }
      if nextComponents.scheme != scheme || nextComponents.host != host || nextComponents.port != url.port {
        request.headers.remove(name: "Authorization")
      }
      if response.status.code == 303 {
        request.method = .GET
        request.body = nil
      }
      request.url = next.absoluteString
    }
    throw TransportError.tooManyRedirects(request.url)
  }

  private func trace(_ request: HTTPClientRequest, _ status: UInt) {
    guard let trace = options.trace else { return }
    let withoutQuery = request.url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.url
    trace("\(request.method.rawValue) \(withoutQuery) -> \(status)")
  }
}

/// Problems with the connection settings themselves.
public enum TransportError: Error, CustomStringConvertible {
  case badCertificateFile(option: String, path: String)
  case badURL(String)
  case insecureRedirect(from: String, to: String)
  case tooManyRedirects(String)

  public var description: String {
    switch self {
    case .badCertificateFile(let option, let path): "\(option) \(path): not a readable PEM certificate file"
    case .badURL(let url): "not a valid URL: \(url)"
    case .insecureRedirect(let from, let to): "refused a redirect from HTTPS to plain HTTP (\(from) -> \(to))"
    case .tooManyRedirects(let url): "too many redirects, last to \(url)"
    }
  }
}

/// A short account of why a connection failed, with what to do where there is something.
public func connectionErrorText(_ error: any Error) -> String {
  let text = String(describing: error)
  if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
    return "its TLS certificate is not trusted (add its CA with --ca-file, or skip verification with --insecure)"
  }
  if text.contains("dnsAError") || text.contains("dnsAAAAError") || text.contains("UnknownHost")
    || text.contains("unknown(host")
  {
    return "unknown host"
  }
  if text.contains("connectTimeout") { return "connection timed out" }
  if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
  if text.contains("remoteConnectionClosed") { return "the connection was closed by the server" }
  if text.contains("readTimeout") { return "timed out waiting for an answer" }
  if text.contains("wrongVersion") || text.contains("WRONG_VERSION_NUMBER") || text.contains("httpsOverHTTP") {
    return "it does not speak TLS on this port (use --plain-http for an HTTP registry)"
  }
  return text
}
