import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OCI
import Transport

/// A client for one registry host, speaking the OCI distribution protocol.
///
/// Every request goes through `send`, which passes it down the request path in this order: authentication
/// (`Authenticated`, in `RegistryClient+Auth.swift`: the ping, Basic or a Bearer token per scope, renewal
/// after a 401 or a 403 from renewable credentials), then `RequestPath` (`Retries`, `Redirects`, `Limiter`,
/// `RequestTrace`), then the `HTTPSender` the client was made with. Failures come back as `RegistryError`s
/// that say what was being done and how often it was tried.
public final class RegistryClient: Sendable {
  /// The registry host as the user wrote it (with port, if any).
  public let host: String
  /// `https://host` or `http://host`.
  public let baseURL: String
  /// The request path below authentication.
  let path: any HTTPSender
  let options: TransportOptions
  let auth: AuthState
  /// How this registry departs from the spec.
  public let profile: RegistryProfile
  /// The floor under which manifest GETs do not spend the registry's pull limit, if one is set.
  let pullFloor: PullFloor?

  /// A client for `host` sending through `http` (the transport, or a fake); `endpoint` is where to connect
  /// when that differs (Docker Hub).
  public init(
    host: String, endpoint: String? = nil, http: any HTTPSender, options: TransportOptions,
    credentials: any CredentialProvider, profile: RegistryProfile = .standard, pullFloor: PullFloor? = nil
  ) {
    self.host = host
    self.pullFloor = pullFloor
    self.profile = profile
    self.options = options
    self.baseURL = "\(options.scheme(for: host))://\(endpoint ?? host)"
    self.path = RequestPath.over(http, options: options)
    self.auth = AuthState(provider: credentials)
  }

  /// The URL of a path under `/v2/`.
  func url(_ path: String) -> String { "\(baseURL)/v2/\(path)" }

  /// Resolves a `Location` header against the registry, keeping its query.
  func resolve(location: String) -> String {
    if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
    return baseURL + (location.hasPrefix("/") ? "" : "/v2/") + location
  }

  /// Sends the request `make` builds down the request path for `scope` (`authenticated`). `resend` (by
  /// default: by its method) says when the request path may send it again and how it learns whether a lost
  /// answer's try did the work; `answerLimit` reads the answer whole, up to that many bytes, as part of the
  /// exchange. The tries come from `budget` (its operation's, such as a blob's), or from one of this
  /// request's own.
  func send(
    operation: String, scope: String?, timeout: TimeAmount = .hours(12), resend: Resend? = nil,
    answerLimit: Int? = nil, budget: RetryBudget? = nil, _ make: () -> HTTPClientRequest
  ) async throws -> HTTPClientResponse {
    let request = make()
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    var rule = (resend ?? .byMethod(of: request)).drawing(on: budget)
    if let answerLimit { rule.wholeAnswer = answerLimit }
    do {
      return try await authenticated(scope).send(request, timeout: timeout, resend: rule)
    } catch {
      throw registryError(error, operation: operation, attempts: budget.attempts)
    }
  }

  /// A failure of the request path as a `RegistryError` about `operation`.
  func registryError(_ error: any Error, operation: String, attempts: Int) -> any Error {
    switch error {
    case var error as RegistryError:
      if error.operation.isEmpty {
        error.operation = operation
      } else if !error.operation.hasPrefix(operation) {
        error.operation = "\(operation): \(error.operation)"
      }
      error.attempts = max(error.attempts, attempts)
      return error
    case let failure as ConnectionFailure:
      return RegistryError(operation: operation, registry: host, reason: .unreachable(failure), attempts: attempts)
    case let error as TransportError:
      return RegistryError(operation: operation, registry: host, reason: .protocolViolation(error.description))
    default:
      return error
    }
  }

  /// Sends a request whose body streams and so can go only once: nothing is retried. A refusal that fresh
  /// credentials cure renews them and fails the request as passing, for the caller to start again.
  /// Its tries are counted in `budget`, the operation's.
  func sendOnce(
    operation: String, scope: String?, budget: RetryBudget?, _ request: HTTPClientRequest
  ) async throws -> HTTPClientResponse {
    do {
      return try await authenticated(scope, streaming: true).send(
        request, timeout: .hours(12), resend: Resend.never.drawing(on: budget))
    } catch {
      throw registryError(error, operation: operation, attempts: budget?.attempts ?? 1)
    }
  }

  /// Sends a request and reads the whole (small) answer, which the request path reads as part of the
  /// exchange (an answer cut off is tried again like a lost one); statuses outside `expect` become errors.
  func call(
    operation: String, scope: String?, expect: Set<UInt>, bodyLimit: Int = 4 << 20, resend: Resend? = nil,
    budget: RetryBudget? = nil, _ make: () -> HTTPClientRequest
  ) async throws -> (HTTPClientResponse, Data) {
    let budget = budget ?? RetryBudget(policy: options.retryPolicy)
    let response = try await send(
      operation: operation, scope: scope, resend: resend, answerLimit: bodyLimit, budget: budget, make)
    let body = Data(buffer: try await response.body.collect(upTo: bodyLimit))
    guard expect.contains(response.status.code) else {
      var error = await error(status: Int(response.status.code), body: body, operation: operation)
      error.attempts = budget.attempts
      throw error
    }
    return (response, body)
  }

  /// Turns an unexpected response into an error carrying the registry's error codes and the tries made
  /// (`budget`'s, the operation's).
  func error(for response: HTTPClientResponse, operation: String, budget: RetryBudget?) async -> RegistryError {
    let body = (try? await response.body.collect(upTo: 1 << 16)).map { Data(buffer: $0) } ?? Data()
    var error = await error(status: Int(response.status.code), body: body, operation: operation)
    error.attempts = budget?.attempts ?? 1
    return error
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
