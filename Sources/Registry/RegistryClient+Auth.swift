import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Transport

extension RegistryClient {
  /// Pings `/v2/` the first time, to learn how the registry wants to be authenticated.
  func authenticateOnce(operation: String) async throws {
    guard await auth.needsPing else { return }
    let request = HTTPClientRequest(url: url(""))
    let response: HTTPClientResponse
    do {
      response = try await transport.send(request, timeout: .seconds(60))
    } catch let error as TransportError {
      throw RegistryError(operation: operation, registry: host, reason: .protocolViolation(error.description))
    } catch {
      throw RegistryError(operation: operation, registry: host, reason: .unreachable(connectionErrorText(error)))
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
      throw RegistryError(operation: operation, registry: host, reason: .status(Int(response.status.code), codes: []))
    }
  }

  /// The `Authorization` header value for a request in `scope`, fetching a token when needed.
  func authorization(scope: String?, operation: String) async throws -> String? {
    guard let challenge = await auth.challenge else { return nil }
    switch challenge.scheme {
    case "basic":
      guard let credentials = try await auth.credentials() else { return nil }
      if credentials.identityToken != nil && credentials.password.isEmpty { return nil }
      return credentials.basicAuthorization
    case "bearer":
      if let direct = try await auth.credentials()?.registryToken { return "Bearer \(direct)" }
      if let token = await auth.token(scope: scope) { return "Bearer \(token)" }
      let (token, lifetime) = try await fetchToken(challenge: challenge, scope: scope, operation: operation)
      await auth.store(token: token, scope: scope, lifetime: lifetime)
      return "Bearer \(token)"
    default:
      return nil
    }
  }

  /// Asks the challenge's token service for a token covering `scope` (and the challenge's own scope).
  private func fetchToken(challenge: Challenge, scope: String?, operation: String) async throws -> (
    String, TimeInterval
  ) {
    guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm) else {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("Bearer challenge without a realm"))
    }
    var scopes = [String]()
    if let scope { scopes += scope.split(separator: " ").map(String.init) }
    if let own = challenge.parameters["scope"], !scopes.contains(own) { scopes.append(own) }
    let service = challenge.parameters["service"]
    let credentials = try await auth.credentials()
    if credentials != nil, components.scheme == "http", let realmHost = components.host,
      !isLoopbackHost(realmHost), !transport.options.plainHTTPHosts.contains(host)
    {
      throw RegistryError(
        operation: operation, registry: host,
        reason: .authentication("refusing to send credentials over plain HTTP to the token service at \(realmHost)"))
    }
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
    let response: HTTPClientResponse
    do {
      response = try await transport.send(request, timeout: .seconds(60))
    } catch {
      throw RegistryError(
        operation: operation, registry: host,
        reason: .unreachable("token service \(realm): \(connectionErrorText(error))"))
    }
    let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
    guard response.status.code == 200 else {
      let why =
        response.status.code == 401 || response.status.code == 403
        ? (credentials == nil
          ? "the token service wants credentials (use hoist login)" : "the credentials were refused")
        : "the token service answered HTTP \(response.status.code)"
      throw RegistryError(operation: operation, registry: host, reason: .authentication(why))
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
}
