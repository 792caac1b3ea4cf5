import OCI
import Registry
import Transfer

/// What `hoist index create` does, as a value: one index over per-platform images, pushed under each
/// destination.
public struct IndexPlan: Sendable {
  /// Destinations as written (`REF`, `+TAG`).
  public var destinations: [String]
  public var sources: [ImageLocation]
  public var format = ManifestFormat.oci
  /// `KEY=VALUE` items.
  public var annotations = [String]()
  public var concurrency = 4
  /// A SOCI index for each image (`--soci`); nil builds none.
  public var soci: SociSettings?

  public init(destinations: [String], sources: [ImageLocation]) {
    self.destinations = destinations
    self.sources = sources
  }

  /// `hoist index create` takes the destination, then the images, with `+TAG` anywhere for more tags.
  public init(arguments: [String], also: [String]) throws {
    let sources = arguments.dropFirst().filter { !$0.hasPrefix("+") }
    if arguments.first?.hasPrefix("+") ?? true || sources.isEmpty {
      throw PlanError("give the destination, then at least one image")
    }
    self.init(
      destinations: [arguments[0]] + arguments.dropFirst().filter { $0.hasPrefix("+") } + also,
      sources: try sources.map(ImageLocation.init(parsing:)))
  }

  /// Refuses what cannot be made as asked.
  public func validate() throws(PlanError) {
    try PlanInputs.check(pairs: annotations, option: "--annotation")
    try PlanRules.check(concurrency: concurrency)
    try PlanRules.check(soci: soci, format: format)
  }

  /// The destinations as written, and parsed.
  public func parsedDestinations() throws(PlanError) -> [(text: String, reference: Reference)] {
    try PlanRules.destinations(destinations)
  }

  /// The registry hosts the index touches.
  public func hosts() throws -> [String] {
    try parsedDestinations().map(\.reference.registry) + sources.compactMap(\.registryHost)
  }

  /// Composes and pushes the index; returns each destination as written with the index's digest.
  public func run(in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void) async throws
    -> [(text: String, digest: Digest)]
  {
    let parsed = try parsedDestinations()
    let index = try await ComposedIndex.compose(
      try sources.map { try session.source($0, platform: .all) }, format: format,
      annotations: PlanInputs.pairs(annotations))
    let targets = try RegistryDestination.targets(
      for: parsed.map(\.reference), chunkSize: RegistryDestination.defaultChunkSize
    ) { try session.client(for: $0) }
    var options = session.settings.copyOptions(concurrency: concurrency)
    options.building(soci)
    let engine = CopyEngine(options: options, cache: session.blobInfo, progress: progress)
    let stored = try await engine.run([ImageCopy(source: { index }, targets: targets)])[0]
    return parsed.map { ($0.text, stored.digest) }
  }
}
