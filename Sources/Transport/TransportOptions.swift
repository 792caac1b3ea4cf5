import Foundation
import OCI

/// How hoist connects: TLS trust, proxies, and where the request trail goes.
public struct TransportOptions: Sendable {
  /// Extra CA certificates (PEM) to trust besides the system's (`--ca-file`).
  public var caFile: String?
  /// Replaces the system trust store (`SSL_CERT_FILE`).
  public var trustStoreFile: String?
  /// Skips certificate verification (`--insecure`).
  public var insecure = false
  /// How requests that failed for a passing reason are tried again (`--retries`).
  public var retryPolicy = RetryPolicy()
  /// Hosts spoken to over plain HTTP (`--plain-http`).
  public var plainHTTPHosts: Set<String> = []
  /// The proxy settings, usually from the environment.
  public var proxies = ProxySettings()
  /// How many requests each host gets at once and per second, shared by every request path made with these
  /// options (and their copies).
  public var limits = RequestLimits()
  /// Receives one line per request (method, URL without query, status) when set (`--debug`).
  public var trace: (@Sendable (String) -> Void)?

  public init() {}

  /// The scheme hoist uses for a registry host.
  public func scheme(for host: String) -> String {
    plainHTTPHosts.contains(host) ? "http" : "https"
  }
}

/// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, interpreted as Go's `net/http` does (loopback is never proxied).
public struct ProxySettings: Sendable, Equatable {
  public struct Server: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
  }

  public var https: Server?
  public var http: Server?
  public var noProxy: [String] = []

  public init() {}

  /// Reads the upper- and lower-case variables from an environment.
  public init(environment: [String: String]) {
    func value(_ name: String) -> String? {
      (environment[name] ?? environment[name.lowercased()]).flatMap { $0.isEmpty ? nil : $0 }
    }
    https = value("HTTPS_PROXY").flatMap(Self.parse)
    http = value("HTTP_PROXY").flatMap(Self.parse)
    noProxy = (value("NO_PROXY") ?? "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces).lowercased()
    }.filter { !$0.isEmpty }
  }

  static func parse(_ text: String) -> Server? {
    let withScheme = text.contains("://") ? text : "http://\(text)"
    guard let url = URLComponents(string: withScheme), let host = url.host, !host.isEmpty else { return nil }
    return Server(
      host: host, port: url.port ?? (url.scheme == "https" ? 443 : 80), username: url.user, password: url.password)
  }

  /// The proxy for a URL's scheme and host, or nil to connect directly.
  public func server(scheme: String, host: String) -> Server? {
    let host = host.lowercased()
    if isLoopbackHost(host) { return nil }
    for entry in noProxy {
      let bare = entry.split(separator: ":").first.map(String.init) ?? entry
      if bare == "*" { return nil }
      let domain = bare.hasPrefix(".") ? String(bare.dropFirst()) : bare
      if host == domain || host.hasSuffix("." + domain) { return nil }
    }
    return scheme == "https" ? https : http
  }
}

/// Whether a host name or address is this machine.
public func isLoopbackHost(_ host: String) -> Bool {
  host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
}
