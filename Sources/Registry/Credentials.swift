import Foundation
import OCI
import Transport

/// A user name and secret for one registry. `identityToken` is an OAuth refresh token some
/// registries hand out instead of a password; `registryToken` is sent as it is as a Bearer token
/// (ECR Public's login).
public struct RegistryCredentials: Sendable, Equatable {
  public var username: String
  public var password: String
  public var identityToken: String?
  public var registryToken: String?

  public init(username: String, password: String, identityToken: String? = nil, registryToken: String? = nil) {
    self.username = username
    self.password = password
    self.identityToken = identityToken
    self.registryToken = registryToken
  }

  /// The `Authorization` value for Basic authentication.
  var basicAuthorization: String {
    "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
  }
}

/// Where credentials come from: the command line first, then docker's `config.json`
/// (`credHelpers`, `credsStore`, `auths`), as docker, crane and skopeo read it.
public struct CredentialSource: Sendable {
  /// Credentials given on the command line, by registry host.
  public var explicit: [String: RegistryCredentials]
  public var dockerConfig: DockerConfigFile

  public init(explicit: [String: RegistryCredentials] = [:], dockerConfig: DockerConfigFile) {
    self.explicit = explicit
    self.dockerConfig = dockerConfig
  }

  /// The credentials for a registry host, or nil for anonymous access.
  public func credentials(for host: String) throws -> RegistryCredentials? {
    if let given = explicit[host] { return given }
    return try dockerConfig.credentials(for: host)
  }
}

/// Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
public struct DockerConfigFile: Sendable {
  public let path: String

  public init(path: String) { self.path = path }

  /// The file docker itself would use in this environment.
  public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> DockerConfigFile {
    let folder = environment["DOCKER_CONFIG"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.docker"
    return DockerConfigFile(path: folder + "/config.json")
  }

  /// The file's members, every one kept for writing it back; empty when the file does not exist.
  func load() throws -> [String: JSONValue] {
    guard let data = FileManager.default.contents(atPath: path) else { return [:] }
    guard let object = JSONValue.read(data)?.object else {
      throw CredentialError.badConfig(path: path, reason: "not a JSON object")
    }
    return object
  }

  /// The key docker uses in `auths` for a host (Docker Hub keeps its historical URL).
  static func authKey(_ host: String) -> String {
    host == "docker.io" || host == "registry-1.docker.io" || host == "index.docker.io"
      ? "https://index.docker.io/v1/" : host
  }

  /// A host name from an `auths` key that may carry a scheme and path.
  static func host(fromKey key: String) -> String {
    var text = Substring(key)
    if let range = text.range(of: "://") { text = text[range.upperBound...] }
    return String(text.split(separator: "/", maxSplits: 1).first ?? text)
  }

  func credentials(for host: String) throws -> RegistryCredentials? {
    let config = try load()
    let key = Self.authKey(host)
    let helpers = config["credHelpers"]?.object
    if let helper = (helpers?[host] ?? helpers?[key])?.string {
      return try CredentialHelper(name: helper).get(serverURL: host)
    }
    if let store = config["credsStore"]?.string, !store.isEmpty,
      let found = try CredentialHelper(name: store).get(serverURL: key)
    {
      return found
    }
    guard let auths = config["auths"]?.object else { return nil }
    let entry = auths[key] ?? auths.first { Self.authKey(Self.host(fromKey: $0.key)) == key }?.value
    guard let entry = entry?.object else { return nil }
    let identityToken = entry["identitytoken"]?.string.flatMap { $0.isEmpty ? nil : $0 }
    if let auth = entry["auth"]?.string, !auth.isEmpty {
      guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
        let colon = decoded.firstIndex(of: ":")
      else {
        throw CredentialError.badConfig(path: path, reason: "the auth entry for \(key) is not base64 of user:password")
      }
      return RegistryCredentials(
        username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]),
        identityToken: identityToken)
    }
    if let identityToken { return RegistryCredentials(username: "", password: "", identityToken: identityToken) }
    return nil
  }

  /// Stores credentials as `docker login` does: in the `credsStore` helper if one is set, else in `auths`.
  public func store(_ credentials: RegistryCredentials, for host: String) throws {
    var config = try load()
    let key = Self.authKey(host)
    var auths = config["auths"]?.object ?? [:]
    if let store = config["credsStore"]?.string, !store.isEmpty {
      try CredentialHelper(name: store).store(serverURL: key, credentials: credentials)
      auths[key] = [:]
    } else {
      auths[key] = ["auth": .string(Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString())]
    }
    config["auths"] = .object(auths)
    try write(config)
  }

  /// Forgets the credentials for a host; returns whether there were any.
  @discardableResult
  public func erase(for host: String) throws -> Bool {
    var config = try load()
    let key = Self.authKey(host)
    var auths = config["auths"]?.object ?? [:]
    let had = auths.removeValue(forKey: key) != nil
    config["auths"] = .object(auths)
    if let store = config["credsStore"]?.string, !store.isEmpty {
      try? CredentialHelper(name: store).erase(serverURL: key)
    }
    try write(config)
    return had
  }

  /// Writes the file atomically with mode 0600 in a 0700 folder.
  private func write(_ config: [String: JSONValue]) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(
      at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(config)
    let temporary = folder.appendingPathComponent(".config.json.\(getpid()).tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
    else { throw CredentialError.badConfig(path: path, reason: "cannot write \(temporary.path)") }
    guard rename(temporary.path, path) == 0 else {
      try? FileManager.default.removeItem(at: temporary)
      throw CredentialError.badConfig(path: path, reason: "cannot replace it")
    }
  }
}

/// What the Docker credential-helper protocol carries for one server: `store`'s input and `get`'s answer.
public struct HelperCredentials: Codable, Sendable, Equatable {
  public var serverURL: String?
  public var username: String?
  public var secret: String?

  enum CodingKeys: String, CodingKey {
    case serverURL = "ServerURL"
    case username = "Username"
    case secret = "Secret"
  }

  public init(serverURL: String?, username: String?, secret: String?) {
    (self.serverURL, self.username, self.secret) = (serverURL, username, secret)
  }

  /// The protocol's JSON, keys sorted.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}

/// A `docker-credential-NAME` program, spoken to over stdin and stdout.
struct CredentialHelper {
  let name: String

  func get(serverURL: String) throws -> RegistryCredentials? {
    let (status, output) = try run("get", input: serverURL)
    guard status == 0 else {
      if output.lowercased().contains("credentials not found") { return nil }
      throw CredentialError.helperFailed(helper: name, action: "get", message: Self.firstLine(output))
    }
    guard let answer = try? JSONDecoder().decode(HelperCredentials.self, from: Data(output.utf8)),
      let secret = answer.secret
    else {
      throw CredentialError.helperFailed(helper: name, action: "get", message: "its answer is not the expected JSON")
    }
    if answer.username == "<token>" { return RegistryCredentials(username: "", password: "", identityToken: secret) }
    return RegistryCredentials(username: answer.username ?? "", password: secret)
  }

  func store(serverURL: String, credentials: RegistryCredentials) throws {
    let payload = HelperCredentials(serverURL: serverURL, username: credentials.username, secret: credentials.password)
    let (status, output) = try run("store", input: try payload.json())
    guard status == 0 else {
      throw CredentialError.helperFailed(helper: name, action: "store", message: Self.firstLine(output))
    }
  }

  func erase(serverURL: String) throws {
    _ = try run("erase", input: serverURL)
  }

  /// Runs `docker-credential-NAME ACTION` with `input`, within `HOIST_HELPER_TIMEOUT`.
  private func run(_ action: String, input: String) throws -> (Int32, String) {
    guard !name.isEmpty, !name.contains("/") else {
      throw CredentialError.helperFailed(helper: name, action: action, message: "not a helper's name")
    }
    let helper = HelperProcess(
      arguments: ["docker-credential-\(name)", action],
      timeout: try HelperProcess.timeout(from: ProcessInfo.processInfo.environment), mergeStandardError: true)
    do {
      let outcome = try helper.run(input: Data(input.utf8))
      return (outcome.status, String(decoding: outcome.output, as: UTF8.self))
    } catch {
      throw CredentialError.helperFailed(helper: name, action: action, message: "docker-credential-\(name): \(error)")
    }
  }

  private static func firstLine(_ text: String) -> String {
    String(text.split(separator: "\n").first ?? "no output").trimmingCharacters(in: .whitespaces)
  }
}

/// Problems reading or writing stored credentials.
public enum CredentialError: CategorizedError, CustomStringConvertible {
  case badConfig(path: String, reason: String)
  case helperFailed(helper: String, action: String, message: String)

  public var description: String {
    switch self {
    case .badConfig(let path, let reason): "\(path): \(reason)"
    case .helperFailed(let helper, let action, let message): "credential helper \(helper) (\(action)): \(message)"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .badConfig: .invalidInput
    case .helperFailed: .unauthorized
    }
  }
}
