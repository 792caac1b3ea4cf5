import ArgumentParser
import Hoist
import OCI

/// The SOCI index settings, for `--soci` and `hoist soci create`.
struct SociTuning: ParsableArguments {
  @Option(help: "Layers smaller than this (as stored, compressed) get no zTOC (default 10MiB).")
  var sociMinLayerSize: ByteCount?

  @Option(help: "Uncompressed bytes between a zTOC's checkpoints (default 4MiB).")
  var sociSpanSize: ByteCount?

  var settings: SociSettings {
    var settings = SociSettings()
    settings.buildTool = "hoist \(HoistCommand.hoistVersion)"
    if let sociMinLayerSize { settings.minLayerSize = Int64(sociMinLayerSize.bytes) }
    if let sociSpanSize { settings.spanSize = sociSpanSize.bytes }
    return settings
  }
}

/// `--soci` and its settings, on every command that can build SOCI indexes.
struct SociOptions: ParsableArguments {
  @Flag(help: "Build a SOCI index (v2) with each image, for lazy loading by the SOCI snapshotter and Fargate.")
  var soci = false

  @OptionGroup var tuning: SociTuning

  func validate() throws {
    if !soci && (tuning.sociMinLayerSize != nil || tuning.sociSpanSize != nil) {
      throw ValidationError("--soci-min-layer-size and --soci-span-size go with --soci")
    }
  }

  /// The settings these flags ask for; nil without `--soci`.
  var settings: SociSettings? { soci ? tuning.settings : nil }
}

/// `hoist soci`: SOCI indexes for images already in a registry or a layout.
struct SociCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "soci",
    abstract: "Build SOCI indexes (v2) for images already pushed.",
    subcommands: [SociCreateCommand.self])
}

/// `hoist soci create SRC DEST`: `hoist copy --soci --all-platforms` by another name.
struct SociCreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Copy an image with a SOCI index (v2) built for each of its platforms.",
    discussion: """
      Each gzip layer of at least --soci-min-layer-size gets a zTOC (its files and where to inflate from);
      the image manifest names the SOCI index in an annotation, so its digest changes, and DEST names an
      image index holding the image and its SOCI index. Layers DEST already holds are read, not sent, and
      only once: zTOCs are kept in hoist's cache.
      SRC and DEST are locations as hoist copy takes them; DEST is a registry reference or an OCI layout.

      Examples:
        hoist soci create 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4 \\
          123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4-soci
        hoist soci create ./layout oci:./soci-layout
      """)

  @Argument(help: "Where the image is.") var source: String
  @Argument(help: "Where it goes, with its SOCI index.") var destination: String

  @Option(name: .long, help: "How many blobs to move at once.")
  var concurrency = 4

  @Option(help: "The platform to take from a multi-platform image, os/arch[/variant] (default: every platform).")
  var platform: String?

  @OptionGroup var tuning: SociTuning
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func plan() throws -> CopyPlan {
    var plan = CopyPlan.sociCreate(
      source: try ImageLocation(parsing: source), destination: try ImageLocation(parsing: destination),
      platform: try platform.map(Platform.init(parsing:)), settings: tuning.settings)
    plan.concurrency = concurrency
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors { try await CopyCommand.copy(try plan(), to: destination, display, connection) }
  }
}
