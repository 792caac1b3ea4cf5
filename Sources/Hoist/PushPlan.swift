import Archives
import Foundation
import OCI
import Registry
import Transfer

/// What `hoist push` does, as a value: a `docker save` tarball or OCI layout to registry references, or
/// with `registry`, every image of the file under its own name.
public struct PushPlan: Sendable {
  /// The file, as named (the CLI spools standard input to a file first).
  public var source: String
  /// Registry references as written (`REF`, `+TAG` for another tag of the one before).
  public var destinations: [String]
  /// Where every image goes under its own name (`HOST` or `HOST/PATH`); `HOIST_REGISTRY` when neither this
  /// nor destinations are given.
  public var registry: String?
  /// The image to push when the file holds several (`NAME:TAG`).
  public var image: String?
  /// The manifest family to convert to; nil keeps the source's.
  public var format: ManifestFormat?
  public var chunkSize = RegistryDestination.defaultChunkSize
  public var concurrency = 4
  /// How many of the archive's images move at once (`--jobs`).
  public var imagesAtOnce = PlanRules.defaultJobs
  public var compression = CompressionKind.gzip
  public var compressionLevel: Int32?
  /// Create missing ECR repositories first.
  public var createRepositories = false
  /// Referrers asked for; nil carries every one the file holds, unless `referrersLeftOut`.
  public var referrers: ReferrerSelection?
  /// Leave the file's referrers behind (`--no-referrers`), saying how many.
  public var referrersLeftOut = false
  /// A SOCI index for each image (`--soci`); nil builds none.
  public var soci: SociSettings?

  public init(source: String, destinations: [String]) {
    self.source = source
    self.destinations = destinations
  }

  /// Refuses what cannot be pushed as asked, with what to do instead; `defaultRegistry` is `HOIST_REGISTRY`.
  public func validate(defaultRegistry: String?) throws(PlanError) {
    try PlanRules.check(referrers: referrers, leftOut: referrersLeftOut)
    try PlanRules.check(
      referrers: referrers, against: format.map { "--format \($0.rawValue)" } ?? (soci == nil ? nil : "--soci"))
    try PlanRules.check(soci: soci, format: format, compression: compression)
    try PlanRules.check(jobs: imagesAtOnce)
    if destinations.isEmpty && (registry ?? defaultRegistry) == nil {
      throw PlanError("name the destinations, or give --registry (or HOIST_REGISTRY) to use the archive's names")
    }
    if !destinations.isEmpty && registry != nil { throw PlanError("give destinations or --registry, not both") }
    if destinations.isEmpty, let prefix = registry ?? defaultRegistry {
      do { _ = try Reference.parts(ofPrefix: prefix) } catch {
        throw PlanError("\(registry == nil ? "HOIST_REGISTRY" : "--registry"): \(error)")
      }
    }
    if chunkSize < PlanRules.minimumChunkSize { throw PlanError("--chunk-size must be at least 5MiB") }
    try PlanRules.check(concurrency: concurrency)
    try compression.check(level: compressionLevel)
    if let format, !format.canDescribe(layerType: compression.layerMediaType) {
      throw PlanError(
        "\(format.name) has no \(compression.rawValue) layers; push \(compression.rawValue) layers with OCI "
          + "manifests (no --format \(format.rawValue))")
    }
  }

  /// One image to push and where: the destinations as written, and parsed; with `--registry` (or
  /// `HOIST_REGISTRY`), the prefix the image was placed under by its own name.
  public struct Job: Sendable, Equatable {
    public var image: String?
    public var texts: [String]
    public var references: [Reference]
    public var placedUnder: String?
  }

  /// The pushes of the file at `path`: the image to the destinations given, or with a registry (this plan's,
  /// else `defaultRegistry`), every image of the file (or the one `image` names) under its own name.
  public func jobs(path: String, defaultRegistry: String?) throws -> [Job] {
    guard let registry = registry ?? (destinations.isEmpty ? defaultRegistry : nil) else {
      let parsed = try PlanRules.destinations(destinations)
      return [Job(image: image, texts: parsed.map(\.text), references: parsed.map(\.reference), placedUnder: nil)]
    }
    let names = try image.map { [$0] } ?? ArchiveSource.imageNames(path: path)
    guard !names.isEmpty else {
      throw PlanError("\(source) names none of its images; give destinations instead of --registry")
    }
    return try names.map { name in
      let reference = try Reference.placing(name, under: registry)
      return Job(image: name, texts: [reference.description], references: [reference], placedUnder: registry)
    }
  }

  /// The engine's options for this push.
  public func copyOptions(_ settings: SessionSettings) -> CopyOptions {
    var options = settings.copyOptions(concurrency: concurrency).carrying(
      fromFile: PlanRules.referrers(fromFile: referrers, leftOut: referrersLeftOut))
    options.format = format
    options.compression = compression.settings(level: compressionLevel)
    options.building(soci)
    return options
  }

  /// Pushes the jobs' images from `path`, reporting progress; returns each destination as written with the
  /// digest it got, in order.
  public func run(
    _ jobs: [Job], from path: String, in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void
  ) async throws -> [(text: String, digest: Digest)] {
    let engine = CopyEngine(
      options: copyOptions(session.settings), cache: session.blobInfo, progress: progress)
    let copies = try jobs.map { job in
      let targets = try RegistryDestination.targets(for: job.references, chunkSize: chunkSize) {
        try session.client(for: $0, createRepositories: createRepositories)
      }
      return ImageCopy(
        source: { try ArchiveSource.open(path: path, image: job.image) }, targets: targets,
        label: jobs.count > 1 ? job.texts.first : nil)
    }
    if let delta = try DeltaRecord.read(bundle: path) {
      try await DeltaCheck(record: delta, registryPrefix: jobs.first?.placedUnder, cache: engine.cache)
        .check(copies, bundle: source)
    }
    let stored = try await engine.run(copies, jobs: imagesAtOnce)
    return zip(jobs, stored).flatMap { job, stored in job.texts.map { ($0, stored.digest) } }
  }
}
