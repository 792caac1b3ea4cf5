import Archives
import ArgumentParser
import Foundation
import OCI
import Registry
import Streams
import Transfer

/// `hoist push SOURCE DEST...`: a tarball or layout to one or more registry references.
struct PushCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "push",
    abstract: "Push a docker save tarball or an OCI layout to registries.",
    discussion: """
      SOURCE is a docker save tarball (plain or gzip), an OCI layout folder, or an OCI layout tar.
      Each DEST gets the image; a DEST without a tag gets :latest. Layers are compressed once and
      sent to every destination that lacks them. On success, stdout has one line per destination:
      DEST@sha256:<manifest digest>.

      With --registry R (HOST or HOST/PATH), each image goes to R/NAME:TAG, NAME:TAG as its RepoTags or
      ref-name annotation writes it, less a registry host (docker.io/, localhost/, or a first part with a dot
      or a colon) and with no library/ added: app:1.4 -> R/app:1.4, library/nginx:1 -> R/library/nginx:1,
      ghcr.io/org/tool:2 -> R/org/tool:2. SOURCE - reads the archive from standard input.

      Examples:
        hoist push app.tar registry.example.com/team/app:1.4 registry.example.com/team/app:latest
        hoist push ./oci-layout localhost:5000/app:dev --plain-http
        hoist push app.oci.tar registry.example.com/app:1.4 --ca-file corp-ca.pem
        hoist push app.tar registry.example.com/app:1.4 +latest +sha-3f2a1c     # more tags, same repository
        hoist push bundle.tar --registry registry.example.com                    # names and tags from the archive
      """
  )

  @Argument(help: "The docker save tarball or OCI layout to push.")
  var source: String

  @Argument(help: "Registry references to push to, e.g. registry.example.com/team/app:1.4.")
  var destinations: [String] = []

  @Option(
    name: .long,
    help: "Push every image in the archive (or the one --image names) under R (HOST or HOST/PATH), by its own name.")
  var registry: String?

  @Option(name: .long, help: "The image to push when the archive holds several (NAME:TAG).")
  var image: String?

  @Option(name: .long, help: "Manifest format to write: oci or docker (default: the source's).")
  var format: ManifestFormat?

  @Option(name: .long, help: "Also write the manifest digest to this file.")
  var digestFile: String?

  @Option(name: .long, help: "Upload chunk size for blobs of known size, e.g. 32MiB (at least 5MiB).")
  var chunkSize: ByteCount = ByteCount(bytes: RegistryDestination.defaultChunkSize)

  @Option(name: .long, help: "How many blobs to upload at once.")
  var concurrency = 4

  @Option(
    name: .long,
    help: "How to compress the layers hoist compresses (a docker save's): gzip (default) or zstd (OCI manifests).")
  var compression: CompressionKind = .gzip

  @Option(
    name: .long,
    help: "The compression level: gzip 1 fastest (default) … 12 smallest; zstd 1 … 19 (default 3).")
  var compressionLevel: Int32?

  @Flag(name: .long, help: "Create missing Amazon ECR repositories before pushing.")
  var createRepository = false

  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    try carried.refuse(with: format.map { "--format \($0.rawValue)" })
    if destinations.isEmpty && (registry ?? Self.defaultRegistry) == nil {
      throw ValidationError("name the destinations, or give --registry (or HOIST_REGISTRY) to use the archive's names")
    }
    if source == "-" && connection.login.passwordStdin {
      throw ValidationError("standard input cannot carry both the archive (-) and the password")
    }
    if !destinations.isEmpty && registry != nil {
      throw ValidationError("give destinations or --registry, not both")
    }
    if chunkSize.bytes < 5 << 20 { throw ValidationError("--chunk-size must be at least 5MiB") }
    if !(1...64).contains(concurrency) { throw ValidationError("--concurrency must be between 1 and 64") }
    if let compressionLevel, !compression.levels.contains(compressionLevel) {
      throw ValidationError(
        "--compression-level for \(compression.rawValue) must be between \(compression.levels.lowerBound) and "
          + "\(compression.levels.upperBound)")
    }
    if compression == .zstd && format == .docker {
      throw ValidationError(
        "Docker schema 2 has no zstd layers; push zstd layers with OCI manifests (no --format docker)")
    }
  }

  func run() async throws {
    try await reportingErrors {
      let spooled = source == "-" ? try SpooledInput.spool(into: cacheFolder()) : nil
      defer { spooled?.remove() }
      let path = spooled?.path ?? source
      let jobs = try plan(path: path)
      let reporter = display.reporter(verb: "push")
      defer { reporter.finish() }
      let hosts = jobs.flatMap { $0.references.map(\.registry) }
      let results = try await connection.withConnection(hosts: hosts) { connected in
        var options = carried.applied(to: connection.copyOptions(concurrency: concurrency))
        options.format = format
        options.compression = compression.settings(level: compressionLevel)
        // A manifest hoist builds for zstd layers is an OCI one: Docker schema 2 has no zstd type.
        if compression == .zstd { options.builtFormat = .oci }
        let engine = CopyEngine(options: options, cache: connection.blobInfoCache(), progress: reporter.report)
        var clients = [String: RegistryClient]()
        let copies = try jobs.map { job in
          let targets = try RegistryDestination.targets(
            for: job.references, chunkSize: chunkSize.bytes, clients: &clients
          ) { try connected.client(for: $0.registry, endpoint: $0.endpointHost, createRepositories: createRepository) }
          return ImageCopy(source: { try ArchiveSource.open(path: path, image: job.image) }, targets: targets)
        }
        let stored = try await engine.run(copies)
        return zip(jobs, stored).flatMap { job, stored in job.texts.map { ($0, stored.digest) } }
      }
      reporter.finish()
      if let digestFile {
        try writeAtomically(results.map { $0.1.description + "\n" }.joined(), to: digestFile)
      }
      for (text, digest) in results { print("\(text)@\(digest)") }
    }
  }

  /// `HOIST_REGISTRY`, the registry `--registry` defaults to.
  static var defaultRegistry: String? {
    ProcessInfo.processInfo.environment["HOIST_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// One image to push and where: the destinations as written, and parsed.
  struct Job {
    var image: String?
    var texts: [String]
    var references: [Reference]
  }

  /// The pushes this command makes: the image to the destinations given, or with `--registry`, every
  /// image of the archive at `path` (or the one `--image` names) to the registry under its own name.
  func plan(path: String) throws -> [Job] {
    guard let registry = registry ?? (destinations.isEmpty ? Self.defaultRegistry : nil) else {
      let parsed = try parsedDestinations(destinations)
      return [Job(image: image, texts: parsed.map(\.text), references: parsed.map(\.reference))]
    }
    let names = try image.map { [$0] } ?? ArchiveSource.imageNames(path: path)
    guard !names.isEmpty else {
      throw ValidationError("\(source) names none of its images; give destinations instead of --registry")
    }
    return try names.map { name in
      let reference = try Reference.placing(name, under: registry)
      return Job(image: name, texts: [reference.description], references: [reference])
    }
  }
}

extension ManifestFormat: ExpressibleByArgument {}

/// `--compression`: which codec compresses the layers hoist compresses.
enum CompressionKind: String, ExpressibleByArgument, CaseIterable {
  case gzip
  case zstd

  /// The levels the codec takes.
  var levels: ClosedRange<Int32> { self == .gzip ? 1...12 : 1...19 }

  /// The codec at `level` (its default when nil), in the block size measured best for it.
  func settings(level: Int32?) -> LayerCompression {
    switch self {
    case .gzip: .gzip(BlockGzip(level: level ?? BlockGzip.fastest.level, blockSize: BlockGzip.fastest.blockSize))
    case .zstd:
      .zstd(
        BlockZstd(
          level: level ?? LayerCompression.zstdDefaults.level, blockSize: LayerCompression.zstdDefaults.blockSize))
    }
  }
}
