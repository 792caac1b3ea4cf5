import AWS
import ArgumentParser
import ECR
import Foundation
import Hoist
import OCI
import Registry
import Transfer
import Transport

/// Flags shared by every command that talks to a registry or to AWS, credentials included.
struct ConnectionOptions: ParsableArguments {
  @OptionGroup var login: LoginOptions

  @Flag(name: .long, help: "Speak plain HTTP to the registries named in this command.")
  var plainHTTP = false

  @Flag(name: .long, help: "Skip TLS certificate verification.")
  var insecure = false

  @Option(name: .long, help: "A PEM file of CA certificates to trust besides the system's.")
  var caFile: String?

  @Option(name: .long, help: "The AWS profile for ECR logins and API calls (turns off AWS_* key variables).")
  var profile: String?

  @Option(name: .long, help: "The AWS region, where the registry host does not name one.")
  var region: String?

  @Option(
    name: .long,
    help: "How often an operation (a request, a blob) that failed for a passing reason is tried again, in all.")
  var retries = 5

  @Flag(name: .long, help: "Use no local cache: neither blob info nor ECR logins are read or written.")
  var noCache = false

  @Option(name: .long, help: "The most requests a second to each registry, for registries that publish a limit.")
  var maxRequestsPerSecond: Double?

  @Flag(
    name: .long, help: "Print each HTTP request (method, URL without query, status) to stderr; secrets are never shown."
  )
  var debug = false

  func validate() throws {
    try usage { try PlanRules.check(requestsPerSecond: maxRequestsPerSecond) }
  }

  /// The session these flags describe; the password is read from standard input only by `withConnection`.
  var settings: SessionSettings {
    var settings = SessionSettings()
    settings.plainHTTP = plainHTTP
    settings.insecure = insecure
    settings.caFile = caFile
    settings.awsProfile = profile
    settings.region = region
    settings.retries = retries
    settings.noCache = noCache
    settings.maxRequestsPerSecond = maxRequestsPerSecond
    if debug { settings.trace = { line in printError("debug: \(line)") } }
    return settings
  }

  /// Runs `body` with a session for the given registry hosts (see `Session.with`), with the credentials
  /// given on the command line and the settings `adjust` adds (a command's own).
  func withConnection<T>(
    hosts: [String], plainHTTP alsoPlain: Set<String> = [], credentials perHost: [String: RegistryCredentials] = [:],
    adjust: (inout SessionSettings) -> Void = { _ in }, _ body: (Session) async throws -> T
  ) async throws -> T {
    var settings = settings
    settings.credentials = login.read()
    adjust(&settings)
    return try await Session.with(settings, hosts: hosts, plainHTTP: alsoPlain, credentials: perHost, body)
  }
}

/// `--username` and `--password-stdin`, for the commands that take credentials.
struct LoginOptions: ParsableArguments {
  @Option(name: .long, help: "User name for the registry (with --password-stdin).")
  var username: String?

  @Flag(name: .long, help: "Read the registry password from standard input.")
  var passwordStdin = false

  func validate() throws {
    if passwordStdin && username == nil { throw ValidationError("--password-stdin needs --username") }
    if username != nil && !passwordStdin { throw ValidationError("--username needs --password-stdin") }
  }

  /// The credentials given, reading the password from stdin.
  func read() -> RegistryCredentials? {
    guard let username, passwordStdin else { return nil }
    return RegistryCredentials(username: username, password: readPasswordFromStdin())
  }
}

/// `$XDG_CACHE_HOME/hoist`, else `~/.cache/hoist`.
func cacheFolder() -> URL { SessionSettings().cacheFolder }

/// Reads the password from standard input, without its line ending.
func readPasswordFromStdin() -> String {
  let data = FileHandle.standardInput.readDataToEndOfFile()
  var text = String(decoding: data, as: UTF8.self)
  while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
  return text
}

/// Writes a line to standard error.
func printError(_ line: String) {
  try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
}
