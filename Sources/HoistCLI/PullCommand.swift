import Archives
import ArgumentParser
import Foundation
import Hoist
import OCI
import Registry
import Transfer

/// Options that say which platforms of an image to take.
struct PlatformOptions: ParsableArguments {
  @Option(help: "The platform to take from a multi-platform image, os/arch[/variant] (default: this machine's).")
  var platform: String?

  @Flag(help: "Keep every platform: the whole index, digests unchanged.")
  var allPlatforms = false

  func validate() throws {
    if platform != nil && allPlatforms { throw ValidationError("--platform and --all-platforms exclude each other") }
    if let platform { _ = try Platform(parsing: platform) }
  }

  var choice: PlatformChoice {
    if allPlatforms { return .all }
    if let platform, let parsed = try? Platform(parsing: platform) { return .only(parsed) }
    return .host
  }
}

/// `hoist pull REF DEST`, `hoist pull REF... --output BUNDLE`.
struct PullCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pull",
    abstract: "Pull images to an OCI layout, an OCI tar or a docker load-able tarball.",
    discussion: """
      The format follows DEST (a folder: OCI layout; NAME.tar: docker archive, which is also an OCI layout)
      unless --format says otherwise. Each image is named in the output by its reference. The output appears
      only when complete; blobs already fetched by an interrupted run are reused.

      Examples:
        hoist pull registry.example.com/app:1.4 ./layout
        hoist pull registry.example.com/app:1.4 app.tar
        hoist pull registry.example.com/base:3 --platform linux/arm64 base.tar
        hoist pull reg/a:1 reg/b:2 reg/c:3 --output bundle.tar
        hoist pull reg/a:2 --output delta.tar --since bundle.tar   # only what changed, as an OCI tar

      With --max-file-size, a tar larger than the size is written as NAME.001, NAME.002, …, each within it
      (FAT32 takes 4 GiB per file); push, copy and verify read the first part as the whole.

      With --since, the output leaves out every blob the named bundles (or hoist inventory files) hold and
      lists them in hoist-delta.json; pushing it checks they are at the destination before writing anything.
      A delta NAME.tar is an OCI tar (docker load needs every blob).
      """
  )

  @Argument(help: "Image references, then the destination (unless --output names it).")
  var arguments: [String]

  @Option(name: .long, help: "The file or folder to write several images into (a bundle).")
  var output: String?

  @Option(name: .long, help: "oci, oci-archive, docker-archive or dir (skopeo's dir:) (default: from DEST).")
  var format: OutputFormat?

  @Flag(help: "Write docker archive layers as plain tars, for old loaders.")
  var uncompressedLayers = false

  @Option(
    name: .long,
    help: "A bundle (or hoist inventory file) the destination already has: leave its blobs out (repeatable).")
  var since: [String] = []

  @Option(name: .long, help: "Write a tar larger than this in parts of at most this size, e.g. 4GiB (NAME.001, …).")
  var maxFileSize: ByteCount?

  /// 8: an image of 100 small layers pulled in 0.26–0.29 s against 0.29–0.35 s with 4; large layers the same.
  @Option(name: .long, help: "How many blobs to fetch at once, per image.")
  var concurrency = 8

  @Option(name: .long, help: "How many images to fetch at once.")
  var jobs = PlanRules.defaultJobs

  @OptionGroup var platforms: PlatformOptions
  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The pull these flags ask for.
  func plan() throws -> PullPlan {
    var plan = try PullPlan(arguments: arguments, output: output)
    plan.format = format
    plan.uncompressedLayers = uncompressedLayers
    plan.concurrency = concurrency
    plan.imagesAtOnce = jobs
    plan.platform = platforms.choice
    plan.referrers = carried.selection
    plan.since = since
    plan.maxFileSize = maxFileSize.map { Int64($0.bytes) }
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors {
      let plan = try plan()
      let reporter = display.reporter(verb: "pull")
      defer { reporter.finish() }
      let result = try await connection.withConnection(hosts: try plan.references().map(\.registry)) {
        try await plan.run(in: $0, progress: reporter.report)
      }
      reporter.finish()
      if result.reusedBlobs + Int(result.reusedPartialBytes) > 0 && !display.quiet {
        printError(
          "reused \(result.reusedBlobs) blobs and \(formatBytes(result.reusedPartialBytes)) of partial ones from an "
            + "interrupted pull")
      }
      for (name, digest) in result.stored { print("\(name)@\(digest) -> \(plan.output)") }
    }
  }
}

/// `hoist copy SRC DST`: between any two of a registry, an OCI layout, an OCI tar and a docker archive.
struct CopyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "copy",
    abstract: "Copy an image between registries and files.",
    discussion: """
      SRC and DST are registry references or oci:PATH[:NAME], oci-archive:PATH[:NAME], docker-archive:PATH[:NAME],
      dir:PATH (skopeo's dir: format, one image), or a path starting with /, ./ or ../ (a source of any kind
      hoist reads; a destination ending in .tar is a docker archive, else an OCI layout).
      Manifests and blobs keep their digests wherever they go; only a manifest hoist builds itself (from a
      docker save tarball of Docker 24 or older, with uncompressed layers) is new, and in an OCI layout it is
      written in OCI terms.

      Examples:
        hoist copy registry-a.example.com/app:1.4 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4 --all-platforms
        hoist copy docker-archive:app.tar oci:./layout:app-1.4
        hoist copy dir:./app-dir registry.example.com/app:1.4
      """
  )

  @Argument(help: "Where the image is.") var source: String
  @Argument(help: "Where it goes.") var destination: String

  @Option(name: .long, help: "How many blobs to move at once.")
  var concurrency = 4

  @Flag(help: "Write docker archive layers as plain tars, for old loaders.")
  var uncompressedLayers = false

  @OptionGroup var platforms: PlatformOptions
  @OptionGroup var sociOptions: SociOptions
  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The copy these flags ask for.
  func plan() throws -> CopyPlan {
    var plan = CopyPlan(
      source: try ImageLocation(parsing: source), destination: try ImageLocation(parsing: destination))
    plan.concurrency = concurrency
    plan.uncompressedLayers = uncompressedLayers
    plan.platform = platforms.choice
    plan.referrers = carried.selection
    plan.referrersLeftOut = carried.noReferrers
    plan.soci = sociOptions.settings
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors { try await Self.copy(try plan(), to: destination, display, connection) }
  }

  /// Runs a copy plan, drawing its progress; prints the destination as written with the digest it got.
  static func copy(
    _ plan: CopyPlan, to destination: String, _ display: OutputOptions, _ connection: ConnectionOptions
  ) async throws {
    let reporter = display.reporter(verb: "copy")
    defer { reporter.finish() }
    let stored = try await connection.withConnection(hosts: plan.hosts) {
      try await plan.run(in: $0, progress: reporter.report)
    }
    reporter.finish()
    print("\(destination)@\(stored.digest)")
  }
}

extension OutputFormat: ExpressibleByArgument {}
