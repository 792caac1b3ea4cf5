import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Transport

/// A client for one registry host, speaking the OCI distribution protocol.
///
/// Every call goes through `send`, which authenticates (Basic, or a Bearer token per scope), answers a 401
/// with a fresh token and an expired-credentials 403 with fresh credentials, waits out 429s (and 5xx on
/// reads), and turns failures into `RegistryError`s that say what was being done.
public final class RegistryClient: Sendable {
  /// The registry host as the user wrote it (with port, if any).
  public let host: String
  /// `https://host` or `http://host`.
  public let baseURL: String
  let transport: HTTPTransport
  let auth: AuthState
  /// How this registry departs from the spec.
  public let profile: RegistryProfile

  /// A client for `host`; `endpoint` is where to connect when that differs (Docker Hub).
  public init(
    host: String, endpoint: String? = nil, transport: HTTPTransport, credentials: any CredentialProvider,
    profile: RegistryProfile = .standard
  ) {
    self.host = host
    self.profile = profile
    let connect = endpoint ?? host
    self.baseURL = "\(transport.scheme(for: host))://\(connect)"
    self.transport = transport
    self.auth = AuthState(provider: credentials)
  }

  /// The URL of a path under `/v2/`.
  func url(_ path: String) -> String { "\(baseURL)/v2/\(path)" }

  /// Resolves a `Location` header against the registry, keeping its query.
  func resolve(location: String) -> String {
    if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
    return baseURL + (location.hasPrefix("/") ? "" : "/v2/") + location
  }

  /// Sends a request built by `make` (called again for a retry), authenticated for `scope`. Requests that
  /// can be repeated safely (`idempotent`, by default GET, HEAD and DELETE) are tried again after a dropped
  /// connection or a 5xx; any request is tried again after a 429, which means it was not processed.
  func send(
    operation: String, scope: String?, timeout: TimeAmount = .hours(12), idempotent: Bool? = nil,
    _ make: () -> HTTPClientRequest
  ) async throws -> HTTPClientResponse {
    try await authenticateOnce(operation: operation)
    var authenticatedAgain = false
    var retries = 0
    let policy = transport.options.retryPolicy
    while true {
      var request = make()
      if let authorization = try await authorization(scope: scope, operation: operation) {
        request.headers.replaceOrAdd(name: "Authorization", value: authorization)
      }
      let repeatable = idempotent ?? [.GET, .HEAD, .DELETE].contains(request.method)
      let response: HTTPClientResponse
      do {
        response = try await transport.send(request, timeout: timeout)
      } catch let error as TransportError {
        throw RegistryError(operation: operation, registry: host, reason: .protocolViolation(error.description))
      } catch {
        guard repeatable, retries < policy.attempts, !Task.isCancelled else {
          throw RegistryError(operation: operation, registry: host, reason: .unreachable(connectionErrorText(error)))
        }
        retries += 1
        try await Task.sleep(nanoseconds: UInt64(policy.delay(attempt: retries) * 1e9))
        continue
      }
      if !authenticatedAgain, try await renewCredentials(refusedBy: response, scope: scope, operation: operation) {
        authenticatedAgain = true
        continue
      }
      let status = response.status.code
      if status == 429 || status == 408 || (repeatable && (500...599).contains(status)), retries < policy.attempts {
        _ = try? await response.body.collect(upTo: 1 << 16)
        retries += 1
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init)
        try await Task.sleep(nanoseconds: UInt64(policy.delay(attempt: retries, retryAfter: retryAfter) * 1e9))
        continue
      }
      return response
    }
  }

  /// Sends a request whose body streams and so can go only once: nothing is retried. A refusal that fresh
  /// credentials cure renews them and fails the request as passing, for the caller to start again.
  func sendOnce(operation: String, scope: String?, _ request: HTTPClientRequest) async throws -> HTTPClientResponse {
    try await authenticateOnce(operation: operation)
    var request = request
    if let authorization = try await authorization(scope: scope, operation: operation) {
      request.headers.replaceOrAdd(name: "Authorization", value: authorization)
    }
    let response: HTTPClientResponse
    do {
      response = try await transport.send(request)
    } catch let error as TransportError {
      throw RegistryError(operation: operation, registry: host, reason: .protocolViolation(error.description))
    } catch {
      throw RegistryError(operation: operation, registry: host, reason: .unreachable(connectionErrorText(error)))
    }
    if try await renewCredentials(refusedBy: response, scope: scope, operation: operation) {
      throw RegistryError(operation: operation, registry: host, reason: .credentialsRenewed)
    }
    return response
  }

  /// Renews what a refusal asks for: a new token or Basic credentials after a 401 with a challenge, new
  /// credentials after a 403 saying they expired. True when renewed; a 403 for another reason is thrown.
  private func renewCredentials(
    refusedBy response: HTTPClientResponse, scope: String?, operation: String
  ) async throws -> Bool {
    switch response.status.code {
    case 401:
      guard let header = response.headers.first(name: "WWW-Authenticate"), let challenge = Challenge(header: header)
      else { return false }
      _ = try? await response.body.collect(upTo: 1 << 16)
      if await auth.hasCredentials, await auth.challenge?.scheme == "basic" { try await auth.refresh() }
      await auth.forget(scope: scope)
      await auth.setChallenge(challenge)
      return true
    case 403:
      let body = (try? await response.body.collect(upTo: 1 << 16)).map { Data(buffer: $0) } ?? Data()
      guard String(decoding: body, as: UTF8.self).lowercased().contains("expired") else {
        throw await error(status: 403, body: body, operation: operation)
      }
      try await auth.refresh()
      return true
    default:
      return false
    }
  }

  /// Sends a request and reads the whole (small) body; statuses outside `expect` become errors.
  func call(
    operation: String, scope: String?, expect: Set<UInt>, bodyLimit: Int = 4 << 20, idempotent: Bool? = nil,
    _ make: () -> HTTPClientRequest
  ) async throws -> (HTTPClientResponse, Data) {
    let response = try await send(operation: operation, scope: scope, idempotent: idempotent, make)
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
    return await error(status: Int(response.status.code), body: body, operation: operation)
  }

  /// An error from a status and the body the registry sent with it.
  func error(status: Int, body: Data, operation: String) async -> RegistryError {
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
    if status == 401 && codes.isEmpty {
      let hint = await auth.hasCredentials ? "the credentials were refused" : "no credentials (use hoist login)"
      return RegistryError(operation: operation, registry: host, reason: .authentication(hint))
    }
    return RegistryError(operation: operation, registry: host, reason: .status(status, codes: codes))
  }
}

extension RegistryClient {
  /// Checks that the registry accepts the client's credentials, as `docker login` does.
  public func checkLogin() async throws {
    _ = try await call(operation: "log in to \(host)", scope: nil, expect: [200]) {
      HTTPClientRequest(url: url(""))
    }
  }
}
