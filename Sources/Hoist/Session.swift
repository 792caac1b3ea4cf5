import AWS
import Archives
import ECR
import Foundation
import OCI
import Registry
import Synchronization
import Transfer
import Transport

/// How a session reaches registries and AWS: what the connection flags of every command say.
public struct SessionSettings: Sendable {
  /// Speak plain HTTP to every registry the command names.
  public var plainHTTP = false
  /// Skip TLS certificate verification.
  public var insecure = false
  /// A PEM file of CA certificates to trust besides the system's.
  public var caFile: String?
  /// The AWS profile for ECR logins and API calls.
  public var awsProfile: String?
  /// The AWS region, where the registry host does not name one.
  public var region: String?
  /// How often an operation that failed for a passing reason is tried again, in all.
  public var retries = 5
  /// Read and write no local cache (blob info, ECR logins).
  public var noCache = false
  /// The most requests a second to each host, if the registry publishes a limit.
  public var maxRequestsPerSecond: Double?
  /// Credentials for every registry the command names (`--username`, `--password-stdin`).
  public var credentials: RegistryCredentials?
  /// Where each HTTP request is reported (`--debug`), if anywhere.
  public var trace: (@Sendable (String) -> Void)?
  /// The pull limit each registry's manifest GETs keep (`sync --min-remaining`), what happens there, and
  /// where a pause is told.
  public var minRemaining: PullFloor.Setting?
  /// The process environment: proxies, `SSL_CERT_FILE`, AWS variables, cache folders.
  public var environment = ProcessInfo.processInfo.environment

  public init() {}

  /// The retry policy `retries` sets.
  public var retryPolicy: RetryPolicy { RetryPolicy(attempts: max(0, retries)) }

  /// The copy engine's options for a job that moves `concurrency` blobs at once.
  public func copyOptions(concurrency: Int) -> CopyOptions {
    var options = CopyOptions()
    options.concurrency = concurrency
    options.retryPolicy = retryPolicy
    return options
  }

  /// `$XDG_CACHE_HOME/hoist`, else `~/.cache/hoist`.
  public var cacheFolder: URL {
    let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
    return URL(fileURLWithPath: base).appendingPathComponent("hoist")
  }

  /// What layers compressed to and where blobs were seen: `blob-info.json` in the cache folder, or memory
  /// only with `noCache`.
  public func blobInfoCache() -> BlobInfoCache {
    BlobInfoCache(file: noCache ? nil : cacheFolder.appendingPathComponent("blob-info.json"))
  }

  /// The on-disk ECR login cache, unless `noCache` or `AWS_ECR_DISABLE_CACHE` turns it off.
  public func ecrLoginCache() -> ECRTokenCache? {
    let variable = environment["AWS_ECR_DISABLE_CACHE"]
    guard !noCache, variable.map({ $0.isEmpty || $0 == "false" }) ?? true else { return nil }
    return ECRTokenCache(file: cacheFolder.appendingPathComponent("ecr-tokens.json"))
  }

  /// The transport options for a session with `hosts`, of which `alsoPlain` speak plain HTTP.
  func transportOptions(hosts: [String], alsoPlain: Set<String>) -> TransportOptions {
    var options = TransportOptions()
    options.caFile = caFile
    options.trustStoreFile = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    options.insecure = insecure
    options.retryPolicy = retryPolicy
    options.limits = RequestLimits(perSecond: maxRequestsPerSecond, policy: retryPolicy)
    options.proxies = ProxySettings(environment: environment)
    options.plainHTTPHosts = (plainHTTP ? Set(hosts) : []).union(alsoPlain)
    options.trace = trace
    return options
  }
}

/// An open transport, where credentials come from, and AWS for ECR hosts: turns a registry name into a
/// client with its credentials, profile and ECR login, and locations into sources and copy targets.
public struct Session: Sendable {
  public let settings: SessionSettings
  let transport: HTTPTransport
  /// Credentials given for hosts, and docker's config.
  public let credentials: CredentialSource
  /// AWS credentials and API calls, for ECR.
  public let aws: AWSSession
  /// ECR logins kept between runs, unless turned off.
  public let tokenCache: ECRTokenCache?
  /// What layers compressed to and where blobs were seen: one cache for every copy of the run.
  public let blobInfo: BlobInfoCache
  /// The clients made so far: one per registry (and way of treating it), so that every image of a run
  /// shares its registry's ping, tokens and ECR login.
  private let clients = MadeClients()
  /// One pull floor per registry host, shared by its clients.
  private let pullFloors = PullFloors()

  /// Runs `body` with a session for the given registry hosts, and closes its transport afterwards, whether
  /// `body` succeeds or fails. The settings' credentials apply to every host, `perHost` to its own;
  /// `alsoPlain` hosts speak plain HTTP.
  public static func with<T>(
    _ settings: SessionSettings, hosts: [String], plainHTTP alsoPlain: Set<String> = [],
    credentials perHost: [String: RegistryCredentials] = [:], _ body: (Session) async throws -> T
  ) async throws -> T {
    let options = settings.transportOptions(hosts: hosts, alsoPlain: alsoPlain)
    var given = [String: RegistryCredentials]()
    if let explicit = settings.credentials { for host in hosts { given[host] = explicit } }
    given.merge(perHost) { _, own in own }
    let transport = try HTTPTransport(options: options)
    let aws = AWSSession(
      environment: AWSEnvironment(
        variables: settings.environment, explicitProfile: settings.awsProfile, explicitRegion: settings.region),
      http: AWSHTTP(over: transport, options: options))
    let session = Session(
      settings: settings, transport: transport,
      credentials: CredentialSource(explicit: given, dockerConfig: .standard()), aws: aws,
      tokenCache: settings.ecrLoginCache(), blobInfo: settings.blobInfoCache())
    do {
      let result = try await body(session)
      await transport.shutdown()
      return result
    } catch {
      await transport.shutdown()
      throw error
    }
  }

  /// ECR access for a registry host ECR recognises, else nil.
  public func ecr(_ registry: String) -> ECRAccess? {
    ECRHost(host: registry).map { ECRAccess(host: $0, registry: registry, session: aws, cache: tokenCache) }
  }

  /// Which credentials a registry gets: those given on the command line for it; else, for an ECR host, an
  /// ECR login from the AWS credential chain, falling back to docker's config when the chain has nothing;
  /// else docker's config.
  public static func credentialProvider(
    explicit: RegistryCredentials?, configured: RegistryCredentials?, ecr: ECRAccess?
  ) -> any CredentialProvider {
    if explicit == nil, let ecr { return ECRCredentialProvider(access: ecr, fallback: configured) }
    return StaticCredentials(explicit ?? configured)
  }

  /// A client for a registry, with the credentials `credentialProvider` chooses and, for an ECR host, ECR's
  /// profile (creating missing repositories when `createRepositories`).
  public func client(for host: String, endpoint: String? = nil, createRepositories: Bool = false) throws
    -> RegistryClient
  {
    let key = "\(host) \(endpoint ?? host) \(createRepositories)"
    if let made = clients.made.withLock({ $0[key] }) { return made }
    let client = try makeClient(for: host, endpoint: endpoint, createRepositories: createRepositories)
    return clients.made.withLock { clients in
      if let made = clients[key] { return made }
      clients[key] = client
      return client
    }
  }

  private func makeClient(for host: String, endpoint: String?, createRepositories: Bool) throws -> RegistryClient {
    let ecr = ecr(host)
    let provider = Self.credentialProvider(
      explicit: credentials.explicit[host], configured: try credentials.credentials(for: host), ecr: ecr)
    return RegistryClient(
      host: host, endpoint: endpoint, http: transport, options: transport.options, credentials: provider,
      profile: ecr?.profile(createRepositories: createRepositories) ?? .standard,
      pullFloor: pullFloors.floor(for: host, settings.minRemaining))
  }

  /// The client for a reference's registry.
  public func client(for reference: Reference, createRepositories: Bool = false) throws -> RegistryClient {
    try client(for: reference.registry, endpoint: reference.endpointHost, createRepositories: createRepositories)
  }

  /// The image source a location names. A file's index is taken whole unless a platform was named (as
  /// `push` takes it).
  public func source(_ location: ImageLocation, platform: PlatformChoice) throws -> any ImageSource {
    switch location {
    case .registry(let reference):
      return RegistrySource(
        client: try client(for: reference), repository: reference.repository,
        reference: reference.manifestReference, platform: platform)
    case .file(let path, _, let name):
      let source = try ArchiveSource.open(path: path, image: name)
      guard case .only(let wanted) = platform else { return source }
      return ChosenPlatform(source, platform: wanted)
    }
  }

  /// A registry source for inspection: the given platform, the whole index, or this machine's platform.
  public func registrySource(_ reference: Reference, platform: String?, wholeIndex: Bool) throws -> RegistrySource {
    let choice: PlatformChoice = try platform.map { .only(try Platform(parsing: $0)) } ?? (wholeIndex ? .all : .host)
    return RegistrySource(
      client: try client(for: reference), repository: reference.repository,
      reference: reference.manifestReference, platform: choice)
  }

  /// The copy target a location names: a registry repository under its tag (by digest only without one), or
  /// a file under its name (else the name `from` gives the image).
  public func target(_ location: ImageLocation, naming from: ImageLocation, uncompressedLayers: Bool = false) throws
    -> CopyTarget
  {
    switch location {
    case .registry(let reference):
      return CopyTarget(
        destination: RegistryDestination(
          client: try client(for: reference), repository: reference.repository,
          chunkSize: RegistryDestination.defaultChunkSize),
        tags: reference.tag.map { [$0] } ?? [])
    case .file(let path, let format, let name):
      let destination = try LayoutDestination(path: path, format: format, uncompressedLayers: uncompressedLayers)
      return CopyTarget(destination: destination, tags: [name ?? Self.defaultName(from)])
    }
  }

  /// The name an image gets in a file when the destination names none: its reference, the name the source
  /// file gives it (chosen, or its only one), or `latest` when it has none.
  public static func defaultName(_ location: ImageLocation) -> String {
    switch location {
    case .registry(let reference): return reference.description
    case .file(_, _, let name?): return name
    case .file(let path, _, nil):
      let names = (try? ArchiveSource.imageNames(path: path)) ?? []
      return names.count == 1 ? names[0] : Reference.defaultTag
    }
  }
}

/// A session's pull floors, by registry host.
final class PullFloors: Sendable {
  private let made = Mutex<[String: PullFloor]>([:])

  /// The host's floor, made the first time; nil when none is set.
  func floor(for host: String, _ setting: PullFloor.Setting?) -> PullFloor? {
    guard let setting else { return nil }
    return made.withLock { floors in
      if let floor = floors[host] { return floor }
      let floor = PullFloor(floor: setting.floor, action: setting.action, notify: setting.notify)
      floors[host] = floor
      return floor
    }
  }
}

/// A session's registry clients, by registry and way of treating it.
final class MadeClients: Sendable {
  let made = Mutex<[String: RegistryClient]>([:])
}
