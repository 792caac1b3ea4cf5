import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import OCI
import Transport

/// The authentication layer of a registry client's request path, above `RequestPath`: it pings `/v2/`
/// the first time, attaches credentials or a token for its scope, and after a refusal that fresh credentials
/// may cure (a 401 with a challenge, a 403 when the credentials can be renewed) renews them and sends the
/// request again, once. A request whose body streams cannot go again: it fails as passing instead
/// (`credentialsRenewed`), for its caller to start over.
struct Authenticated: HTTPSender {
  let client: RegistryClient
  let scope: String?
  let streaming: Bool

  func send(_ request: HTTPClientRequest, timeout: TimeAmount, resend: Resend) async throws -> HTTPClientResponse {
    try await client.pingOnce(budget: resend.budget)
    var renewed = false
    while true {
      var outgoing = request
      if let authorization = try await client.authorization(scope: scope, budget: resend.budget) {
        outgoing.headers.replaceOrAdd(name: "Authorization", value: authorization)
      }
      let response = try await client.path.send(outgoing, timeout: timeout, resend: resend)
      guard !renewed, try await client.renewCredentials(refusedBy: response, scope: scope) else { return response }
      guard !streaming else {
        throw RegistryError(operation: "", registry: client.host, reason: .credentialsRenewed)
      }
      renewed = true
    }
  }
}

extension RegistryClient {
  /// The request path for requests in `scope`: the authentication layer (`Authenticated`) over `path`.
  /// `streaming`: the requests' bodies stream, so they cannot go twice.
  func authenticated(_ scope: String?, streaming: Bool = false) -> Authenticated {
    Authenticated(client: self, scope: scope, streaming: streaming)
  }

  /// Renews what a refusal asks for: a new token or Basic credentials after a 401 with a challenge, new
  /// credentials after a 403 when the provider can renew them (an ECR login expires after 12 hours, and
  /// ECR says so with a 403). True when renewed; the response's body is then read away.
  func renewCredentials(refusedBy response: HTTPClientResponse, scope: String?) async throws -> Bool {
    switch response.status.code {
    case 401:
      guard let header = response.headers.first(name: "WWW-Authenticate"), let challenge = Challenge(header: header)
      else { return false }
      _ = try? await response.body.collect(upTo: 1 << 16)
      if await auth.hasCredentials, await auth.challenge?.scheme == "basic" { try await auth.refresh() }
      await auth.forget(scope: scope)
      await auth.setChallenge(challenge)
      return true
    case 403 where auth.provider.renewable:
      _ = try? await response.body.collect(upTo: 1 << 16)
      try await auth.refresh()
      return true
    default:
      return false
    }
  }

  /// Asks `/v2/` the first time how the registry wants to be authenticated, once for all the requests that
  /// start together. The ping goes down the request path like any request, so a 5xx or 429 on it is tried
  /// again, drawing on `budget` (the first caller's operation's, or its own).
  func pingOnce(budget: RetryBudget?) async throws {
    try await auth.pingOnce { try await self.ping(budget: budget ?? RetryBudget(policy: self.options.retryPolicy)) }
  }

  private func ping(budget: RetryBudget) async throws {
    let operation = "ask \(host) how to authenticate (GET /v2/)"
    let response: HTTPClientResponse
    do {
      response = try await path.send(
        HTTPClientRequest(url: url("")), timeout: .seconds(60),
        resend: Resend.asIs.readingWhole(upTo: 1 << 16).drawing(on: budget))
    } catch {
      throw registryError(error, operation: operation, attempts: budget.attempts)
    }
    _ = try? await response.body.collect(upTo: 1 << 16)
    switch response.status.code {
    case 200..<300:
      await auth.markPinged()
    case 401:
      guard let header = response.headers.first(name: "WWW-Authenticate"), let challenge = Challenge(header: header)
      else {
        throw RegistryError(
          operation: operation, registry: host,
          reason: .protocolViolation("401 on /v2/ without a WWW-Authenticate challenge"))
      }
      await auth.setChallenge(challenge)
    case 404:
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("/v2/ is not found: not an OCI registry"))
    default:
      throw RegistryError(
        operation: operation, registry: host, reason: .status(Int(response.status.code), codes: []),
        attempts: budget.attempts)
    }
  }

  /// The `Authorization` header value for a request in `scope`, fetching a token when needed (drawing on
  /// `budget`, the request's operation's, or its own).
  func authorization(scope: String?, budget: RetryBudget?) async throws -> String? {
    guard let challenge = await auth.challenge else { return nil }
    switch challenge.scheme {
    case "basic":
      guard let credentials = try await auth.credentials() else { return nil }
      if credentials.identityToken != nil && credentials.password.isEmpty { return nil }
      return credentials.basicAuthorization
    case "bearer":
      if let direct = try await auth.credentials()?.registryToken { return "Bearer \(direct)" }
      if let token = await auth.token(scope: scope) { return "Bearer \(token)" }
      let (token, lifetime) = try await fetchToken(
        challenge: challenge, scope: scope, budget: budget ?? RetryBudget(policy: options.retryPolicy))
      await auth.store(token: token, scope: scope, lifetime: lifetime)
      return "Bearer \(token)"
    default:
      return nil
    }
  }

  /// Asks the challenge's token service for a token covering `scope` (and the challenge's own scope).
  private func fetchToken(
    challenge: Challenge, scope: String?, budget: RetryBudget
  ) async throws -> (String, TimeInterval) {
    let operation = "get a token from \(challenge.parameters["realm"] ?? "the token service")"
    guard let realm = challenge.parameters["realm"], let components = URLComponents(string: realm) else {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("Bearer challenge without a realm"))
    }
    var scopes = [String]()
    if let scope { scopes += scope.split(separator: " ").map(String.init) }
    if let own = challenge.parameters["scope"], !scopes.contains(own) { scopes.append(own) }
    let service = challenge.parameters["service"]
    let credentials = try await auth.credentials()
    if credentials != nil, components.scheme == "http", let realmHost = components.host,
      !isLoopbackHost(realmHost), !options.plainHTTPHosts.contains(host)
    {
      throw RegistryError(
        operation: operation, registry: host,
        reason: .authentication("refusing to send credentials over plain HTTP to the token service at \(realmHost)"))
    }
    let outgoing = Self.tokenRequest(
      realm: realm, components: components, service: service, scopes: scopes, credentials: credentials)
    let response: HTTPClientResponse
    do {
      response = try await path.send(
        outgoing, timeout: .seconds(60), resend: Resend.asIs.readingWhole(upTo: 1 << 20).drawing(on: budget))
    } catch {
      throw registryError(error, operation: operation, attempts: budget.attempts)
    }
    let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
    switch response.status.code {
    case 200: break
    case 401, 403:
      let why =
        credentials == nil ? "the token service wants credentials (use hoist login)" : "the credentials were refused"
      throw RegistryError(operation: operation, registry: host, reason: .authentication(why))
    default:
      throw RegistryError(
        operation: operation, registry: host, reason: .tokenService(realm: realm, status: Int(response.status.code)),
        attempts: budget.attempts)
    }
    struct TokenAnswer: Decodable {
      var token: String?
      var accessToken: String?
      var expiresIn: Double?
      enum CodingKeys: String, CodingKey {
        case token
        case accessToken = "access_token"
        case expiresIn = "expires_in"
      }
    }
    guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: body),
      let token = answer.token ?? answer.accessToken, !token.isEmpty
    else {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("the token service answered without a token"))
    }
    return (token, answer.expiresIn ?? 60)
  }

  /// The token request: OAuth2's refresh-token grant (POST) with an identity token, else a GET with the
  /// service and scopes in the query and Basic credentials when there are any.
  static func tokenRequest(
    realm: String, components: URLComponents, service: String?, scopes: [String], credentials: RegistryCredentials?
  ) -> HTTPClientRequest {
    var components = components
    var request: HTTPClientRequest
    if let refresh = credentials?.identityToken {
      var form = URLComponents()
      form.queryItems =
        [
          URLQueryItem(name: "grant_type", value: "refresh_token"),
          URLQueryItem(name: "refresh_token", value: refresh),
          URLQueryItem(name: "client_id", value: "hoist"),
        ] + (service.map { [URLQueryItem(name: "service", value: $0)] } ?? [])
        + [URLQueryItem(name: "scope", value: scopes.joined(separator: " "))]
      request = HTTPClientRequest(url: realm)
      request.method = .POST
      request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
      request.body = .bytes(ByteBuffer(string: form.percentEncodedQuery ?? ""))
    } else {
      var items = components.queryItems ?? []
      if let service { items.append(URLQueryItem(name: "service", value: service)) }
      items += scopes.map { URLQueryItem(name: "scope", value: $0) }
      components.queryItems = items
      request = HTTPClientRequest(url: components.string ?? realm)
      if let credentials, !credentials.username.isEmpty || !credentials.password.isEmpty {
        request.headers.add(name: "Authorization", value: credentials.basicAuthorization)
      }
    }
    return request
  }
}
