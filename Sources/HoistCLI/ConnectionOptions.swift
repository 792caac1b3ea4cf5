import AWS
import ArgumentParser
import ECR
import Foundation
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

  @Flag(
    name: .long, help: "Print each HTTP request (method, URL without query, status) to stderr; secrets are never shown."
  )
  var debug = false

  /// The retry policy `--retries` sets.
  var retryPolicy: RetryPolicy { RetryPolicy(attempts: max(0, retries)) }

  /// The copy engine's options for a command that moves `concurrency` blobs at once.
  func copyOptions(concurrency: Int) -> CopyOptions {
    var options = CopyOptions()
    options.concurrency = concurrency
    options.retryPolicy = retryPolicy
    return options
  }

  /// What layers compressed to and where blobs were seen: `blob-info.json` in the cache folder, or memory
  /// only with `--no-cache`.
  func blobInfoCache() -> BlobInfoCache {
    BlobInfoCache(file: noCache ? nil : cacheFolder().appendingPathComponent("blob-info.json"))
  }

  /// Runs `body` with a transport and client factory for the given registry hosts, and closes the
  /// transport afterwards, whether `body` succeeds or fails. Credentials given with `--username` and
  /// `--password-stdin` apply to every host, `perHost` to its own; `alsoPlain` hosts speak plain HTTP.
  func withConnection<T>(
    hosts: [String], plainHTTP alsoPlain: Set<String> = [], credentials perHost: [String: RegistryCredentials] = [:],
    _ body: (Connection) async throws -> T
  ) async throws -> T {
    let explicit = login.read()
    let environment = ProcessInfo.processInfo.environment
    var options = TransportOptions()
    options.caFile = caFile
    options.trustStoreFile = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    options.insecure = insecure
    options.retryPolicy = retryPolicy
    options.proxies = ProxySettings(environment: environment)
    options.plainHTTPHosts = (plainHTTP ? Set(hosts) : []).union(alsoPlain)
    if debug { options.trace = { line in printError("debug: \(line)") } }
    var given = [String: RegistryCredentials]()
    if let explicit { for host in hosts { given[host] = explicit } }
    given.merge(perHost) { _, own in own }
    let transport = try HTTPTransport(options: options)
    let aws = AWSSession(
      environment: AWSEnvironment(variables: environment, explicitProfile: profile, explicitRegion: region),
      http: AWSHTTP(over: transport, options: options))
    let connection = Connection(
      transport: transport, credentials: CredentialSource(explicit: given, dockerConfig: .standard()), aws: aws,
      tokenCache: ecrLoginCache(disabled: noCache))
    do {
      let result = try await body(connection)
      await transport.shutdown()
      return result
    } catch {
      await transport.shutdown()
      throw error
    }
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

/// An open transport, where credentials come from, and AWS for ECR hosts; hands out one client per registry.
struct Connection {
  let transport: HTTPTransport
  let credentials: CredentialSource
  let aws: AWSSession
  let tokenCache: ECRTokenCache?

  /// ECR access for a registry host ECR recognises, else nil.
  func ecr(_ registry: String) -> ECRAccess? {
    ECRHost(host: registry).map { ECRAccess(host: $0, registry: registry, session: aws, cache: tokenCache) }
  }

  /// A client for a registry: ECR hosts log in from the AWS credential chain unless credentials were
  /// given on the command line, and get ECR's profile (creating missing repositories when
  /// `createRepositories`); other hosts use docker's config.
  func client(for host: String, endpoint: String? = nil, createRepositories: Bool = false) throws -> RegistryClient {
    let configured = try credentials.credentials(for: host)
    let ecr = ecr(host)
    let provider: any CredentialProvider
    if credentials.explicit[host] == nil, let ecr {
      provider = ECRCredentialProvider(access: ecr, fallback: configured)
    } else {
      provider = StaticCredentials(configured)
    }
    return RegistryClient(
      host: host, endpoint: endpoint, http: transport, options: transport.options, credentials: provider,
      profile: ecr?.profile(createRepositories: createRepositories) ?? .standard)
  }
}

/// The on-disk ECR login cache, unless `--no-cache` or `AWS_ECR_DISABLE_CACHE` turns it off.
func ecrLoginCache(disabled: Bool) -> ECRTokenCache? {
  let variable = ProcessInfo.processInfo.environment["AWS_ECR_DISABLE_CACHE"]
  guard !disabled, variable.map({ $0.isEmpty || $0 == "false" }) ?? true else { return nil }
  return ECRTokenCache(file: cacheFolder().appendingPathComponent("ecr-tokens.json"))
}

/// `$XDG_CACHE_HOME/hoist`, else `~/.cache/hoist`.
func cacheFolder() -> URL {
  let environment = ProcessInfo.processInfo.environment
  let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
  return URL(fileURLWithPath: base).appendingPathComponent("hoist")
}

/// Reads the password from standard input, without its line ending.
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
