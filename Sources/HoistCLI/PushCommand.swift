import Archives
import ArgumentParser
import Foundation
import Hoist
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

      The referrers the file holds (signatures, SBOMs, attestations put there with pull --referrers) go with
      their images; --referrers-type T keeps those of type T, --no-referrers leaves them behind and says how
      many. A manifest whose digest has to change (--format, a registry that needs the mediaType field) leaves
      its referrers behind with a notice, since they name it by digest.

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

  @Option(name: .long, help: "How many blobs to upload at once, per image.")
  var concurrency = 4

  @Option(name: .long, help: "How many of the archive's images to push at once.")
  var jobs = PlanRules.defaultJobs

  @Option(
    name: .long,
    help: "How to compress the layers hoist compresses (a docker save's): gzip (default) or zstd (OCI manifests).")
  var compression: CompressionKind = .gzip

  @Option(
    name: .long,
    help: "The compression level: gzip 1 fastest (default) … 12 smallest; zstd 1 … 19 (default 2).")
  var compressionLevel: Int32?

  @Flag(name: .long, help: "Create missing Amazon ECR repositories before pushing.")
  var createRepository = false

  @OptionGroup var sociOptions: SociOptions
  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The push these flags ask for.
  var plan: PushPlan {
    var plan = PushPlan(source: source, destinations: destinations)
    plan.registry = registry
    plan.image = image
    plan.format = format
    plan.chunkSize = chunkSize.bytes
    plan.concurrency = concurrency
    plan.imagesAtOnce = jobs
    plan.compression = compression
    plan.compressionLevel = compressionLevel
    plan.createRepositories = createRepository
    plan.referrers = carried.selection
    plan.referrersLeftOut = carried.noReferrers
    plan.soci = sociOptions.settings
    return plan
  }

  func validate() throws {
    try usage { try plan.validate(defaultRegistry: Self.defaultRegistry) }
    if source == "-" && connection.login.passwordStdin {
      throw ValidationError("standard input cannot carry both the archive (-) and the password")
    }
  }

  func run() async throws {
    try await reportingErrors {
      let spooled = source == "-" ? try SpooledInput.spool(into: cacheFolder()) : nil
      defer { spooled?.remove() }
      let path = spooled?.path ?? source
      let plan = plan
      let jobs = try plan.jobs(path: path, defaultRegistry: Self.defaultRegistry)
      let reporter = display.reporter(verb: "push")
      defer { reporter.finish() }
      let results = try await connection.withConnection(hosts: jobs.flatMap { $0.references.map(\.registry) }) {
        try await plan.run(jobs, from: path, in: $0, progress: reporter.report)
      }
      reporter.finish()
      if let digestFile {
        try writeAtomically(results.map { $0.digest.description + "\n" }.joined(), to: digestFile)
      }
      for (text, digest) in results { print("\(text)@\(digest)") }
    }
  }

  /// `HOIST_REGISTRY`, the registry `--registry` defaults to.
  static var defaultRegistry: String? {
    ProcessInfo.processInfo.environment["HOIST_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
  }
}

extension ManifestFormat: ExpressibleByArgument {}

extension CompressionKind: ExpressibleByArgument {}
