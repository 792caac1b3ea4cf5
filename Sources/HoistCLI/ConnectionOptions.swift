import ArgumentParser
import Foundation
import Registry

/// Flags shared by every command that talks to a registry.
struct ConnectionOptions: ParsableArguments {
  @Flag(name: .long, help: "Speak plain HTTP to the registries named in this command.")
  var plainHTTP = false

  @Flag(name: .long, help: "Skip TLS certificate verification.")
  var insecure = false

  @Option(name: .long, help: "A PEM file of CA certificates to trust besides the system's.")
  var caFile: String?

  @Option(name: .long, help: "User name for the registry (with --password-stdin).")
  var username: String?

  @Flag(name: .long, help: "Read the registry password from standard input.")
  var passwordStdin = false

  @Flag(
    name: .long, help: "Print each HTTP request (method, URL without query, status) to stderr; secrets are never shown."
  )
  var debug = false

  func validate() throws {
    if passwordStdin && username == nil { throw ValidationError("--password-stdin needs --username") }
    if username != nil && !passwordStdin { throw ValidationError("--username needs --password-stdin") }
  }

  /// Runs `body` with a transport and client factory for the given registry hosts, and closes the
  /// transport afterwards, whether `body` succeeds or fails.
  func withConnection<T>(hosts: [String], _ body: (Connection) async throws -> T) async throws -> T {
    let environment = ProcessInfo.processInfo.environment
    var options = TransportOptions()
    options.caFile = caFile
    options.trustStoreFile = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    options.insecure = insecure
    options.proxies = ProxySettings(environment: environment)
    if plainHTTP { options.plainHTTPHosts = Set(hosts) }
    if debug { options.trace = { line in printError("debug: \(line)") } }
    var explicit = [String: RegistryCredentials]()
    if let username, passwordStdin {
      let password = readPasswordFromStdin()
      for host in hosts { explicit[host] = RegistryCredentials(username: username, password: password) }
    }
    let source = CredentialSource(explicit: explicit, dockerConfig: .standard())
    let connection = Connection(transport: try HTTPTransport(options: options), credentials: source)
    do {
      let result = try await body(connection)
      await connection.transport.shutdown()
      return result
    } catch {
      await connection.transport.shutdown()
      throw error
    }
  }
}

/// An open transport and where to find credentials; hands out one client per registry.
struct Connection {
  let transport: HTTPTransport
  let credentials: CredentialSource

  func client(for host: String, endpoint: String? = nil) throws -> RegistryClient {
    RegistryClient(
      host: host, endpoint: endpoint, transport: transport, credentials: try credentials.credentials(for: host))
  }
}

/// Reads one line (the password) from standard input, without its line ending.
func readPasswordFromStdin() -> String {
  let data = FileHandle.standardInput.readDataToEndOfFile()
  var text = String(decoding: data, as: UTF8.self)
  while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
  return text
}

/// Writes a line to standard error.
func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
