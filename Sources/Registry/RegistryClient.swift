import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A client for one registry host, speaking the OCI distribution protocol.
///
/// Every call goes through `send`, which authenticates (Basic, or a Bearer token per scope), retries once
/// after a 401 with a fresh token, and turns failures into `RegistryError`s that say what was being done.
public final class RegistryClient: Sendable {
  /// The registry host as the user wrote it (with port, if any).
  public let host: String
  /// `https://host` or `http://host`.
  public let baseURL: String
  let transport: HTTPTransport
  let auth: AuthState

  /// A client for `host`; `endpoint` is where to connect when that differs (Docker Hub).
  public init(host: String, endpoint: String? = nil, transport: HTTPTransport, credentials: RegistryCredentials?) {
    self.host = host
    let connect = endpoint ?? host
    self.baseURL = "\(transport.scheme(for: host))://\(connect)"
    self.transport = transport
    self.auth = AuthState(credentials: credentials)
  }

  /// The URL of a path under `/v2/`.
  func url(_ path: String) -> String { "\(baseURL)/v2/\(path)" }

  /// Resolves a `Location` header against the registry, keeping its query.
  func resolve(location: String) -> String {
    if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
    return baseURL + (location.hasPrefix("/") ? "" : "/v2/") + location
  }

  /// Sends a request built by `make` (called again for a retry), authenticated for `scope`.
  func send(
    operation: String, scope: String?, timeout: TimeAmount = .hours(12),
    _ make: () -> HTTPClientRequest
  ) async throws -> HTTPClientResponse {
    try await authenticateOnce(operation: operation)
    var retried = false
    while true {
      var request = make()
      if let authorization = try await authorization(scope: scope, operation: operation) {
        request.headers.replaceOrAdd(name: "Authorization", value: authorization)
      }
      let response: HTTPClientResponse
      do {
        response = try await transport.send(request, timeout: timeout)
      } catch let error as TransportError {
        throw RegistryError(operation: operation, registry: host, reason: .protocolViolation(error.description))
      } catch {
        throw RegistryError(operation: operation, registry: host, reason: .unreachable(connectionErrorText(error)))
      }
      if response.status == .unauthorized, !retried,
        let header = response.headers.first(name: "WWW-Authenticate"), let challenge = Challenge(header: header)
      {
        _ = try? await response.body.collect(upTo: 1 << 16)
        await auth.forget(scope: scope)
        await auth.setChallenge(challenge)
        retried = true
        continue
      }
      return response
    }
  }

  /// Sends a request and reads the whole (small) body; statuses outside `expect` become errors.
  func call(
    operation: String, scope: String?, expect: Set<UInt>, bodyLimit: Int = 4 << 20,
    _ make: () -> HTTPClientRequest
  ) async throws -> (HTTPClientResponse, Data) {
    let response = try await send(operation: operation, scope: scope, make)
    guard expect.contains(response.status.code) else {
      throw await error(for: response, operation: operation)
    }
    let body: ByteBuffer
    do {
      body = try await response.body.collect(upTo: bodyLimit)
    } catch {
      throw RegistryError(
        operation: operation, registry: host,
        reason: .protocolViolation("response body over \(bodyLimit) bytes or cut off"))
    }
    return (response, Data(buffer: body))
  }

  /// Turns an unexpected response into an error carrying the registry's error codes.
  func error(for response: HTTPClientResponse, operation: String) async -> RegistryError {
    let body = (try? await response.body.collect(upTo: 1 << 16)).map { Data(buffer: $0) } ?? Data()
    struct Errors: Decodable {
      struct Item: Decodable {
        var code: String?
        var message: String?
      }
      var errors: [Item]?
    }
    var codes =
      (try? JSONDecoder().decode(Errors.self, from: body))?.errors?.map {
        (code: $0.code ?? "UNKNOWN", message: $0.message ?? "")
      } ?? []
    if codes.isEmpty, !body.isEmpty, body.count < 512, let text = String(data: body, encoding: .utf8),
      !text.contains("<")
    {
      codes = [(code: "", message: text.trimmingCharacters(in: .whitespacesAndNewlines))]
    }
    let status = Int(response.status.code)
    if status == 401 && codes.isEmpty {
      let hint = await auth.hasCredentials ? "the credentials were refused" : "no credentials (use hoist login)"
      return RegistryError(operation: operation, registry: host, reason: .authentication(hint))
    }
    return RegistryError(operation: operation, registry: host, reason: .status(status, codes: codes))
  }
}

/// A short account of why a connection failed, with what to do where there is something.
func connectionErrorText(_ error: any Error) -> String {
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

extension RegistryClient {
  /// Checks that the registry accepts the client's credentials, as `docker login` does.
  public func checkLogin() async throws {
    _ = try await call(operation: "log in to \(host)", scope: nil, expect: [200]) {
      HTTPClientRequest(url: url(""))
    }
  }
}
