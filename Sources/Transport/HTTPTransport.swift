import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OCI
import Synchronization

/// The bottom of every request path: AsyncHTTPClient's HTTP/1.1 clients (one per proxy choice), with TLS
/// set up once. Redirects, retries and authentication are layers above (`RequestPath`).
public final class HTTPTransport: HTTPSender {
  private let direct: HTTPClient
  private let viaProxy: [ProxySettings.Server: HTTPClient]
  public let options: TransportOptions
  /// `SSL_CERT_FILE` until it has been read once, at the first HTTPS request: a run that speaks only plain
  /// HTTP never parses the store (3 ms of every start with Debian's bundle), and a bad one is still refused
  /// in one line rather than as a failed handshake.
  private let uncheckedTrustStore: Mutex<String?>

  /// The event loops every connection runs on, for the process's life: as many as cores up to four, which
  /// carry gigabytes a second, so that a body's writer waits for a few of them (`StreamedBody`), not one
  /// per core of a large machine.
  static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: min(System.coreCount, 4))

  public init(options: TransportOptions) throws {
    self.options = options
    var tls = TLSConfiguration.makeClientConfiguration()
    if options.insecure { tls.certificateVerification = .none }
    uncheckedTrustStore = Mutex(options.trustStoreFile)
    if let store = options.trustStoreFile { tls.trustRoots = .file(store) }
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
      return HTTPClient(eventLoopGroupProvider: .shared(Self.eventLoops), configuration: configuration)
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

  /// Sends one request as it is (no redirects followed); a failure to connect or a broken exchange is
  /// thrown as a `ConnectionFailure`.
  public func send(
    _ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend
  ) async throws -> HTTPClientResponse {
    guard let url = URLComponents(string: request.url), let scheme = url.scheme, let host = url.host else {
      throw TransportError.badURL(request.url)
    }
    if scheme == "https" {
      try uncheckedTrustStore.withLock { store in
        guard let file = store else { return }
        _ = try Self.loadCertificates(file, option: "SSL_CERT_FILE")
        store = nil
      }
    }
    let client = options.proxies.server(scheme: scheme, host: host).flatMap { viaProxy[$0] } ?? direct
    do {
      return try await client.execute(request, timeout: timeout)
    } catch let error as CancellationError {
      throw error
    } catch {
      if Task.isCancelled { throw CancellationError() }
      throw ConnectionFailure(error)
    }
  }
}

/// Problems with the connection settings themselves.
public enum TransportError: CategorizedError, CustomStringConvertible {
  case badCertificateFile(option: String, path: String)
  case badURL(String)
  case insecureRedirect(from: String, to: String)
  case tooManyRedirects(String)
  /// An answer read whole was longer than the request allows.
  case answerTooLarge(limit: Int)

  public var description: String {
    switch self {
    case .badCertificateFile(let option, let path): "\(option) \(path): not a readable PEM certificate file"
    case .badURL(let url): "not a valid URL: \(url)"
    case .insecureRedirect(let from, let to): "refused a redirect from HTTPS to plain HTTP (\(from) -> \(to))"
    case .tooManyRedirects(let url): "too many redirects, last to \(url)"
    case .answerTooLarge(let limit): "an answer larger than \(limit) bytes"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .badCertificateFile, .badURL: .invalidInput
    case .insecureRedirect, .tooManyRedirects, .answerTooLarge: .protocolViolation
    }
  }
}
