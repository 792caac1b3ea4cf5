import Archives
import OCI
import Registry
import Transfer

/// What `hoist pull` does, as a value: registry images into one OCI layout, OCI tar, docker archive or
/// `dir:` folder.
public struct PullPlan: Sendable {
  /// The images, as written (a reference without tag or digest gets `latest`).
  public var images: [String]
  /// The file or folder they go into.
  public var output: String
  /// The output's format; nil follows from its name (`OutputFormat.implied(by:)`).
  public var format: OutputFormat?
  /// Docker archive layers as plain tars, for old loaders.
  public var uncompressedLayers = false
  /// 8: an image of 100 small layers pulled in 0.26–0.29 s against 0.29–0.35 s with 4; large layers the same.
  public var concurrency = 8
  /// How many images move at once (`--jobs`).
  public var imagesAtOnce = PlanRules.defaultJobs
  public var platform = PlatformChoice.host
  public var referrers: ReferrerSelection?
  /// Bundles or inventories whose blobs the output leaves out: a delta bundle (`--since`).
  public var since = [String]()
  /// A tar output larger than this is written in parts of at most this size (`PATH.001`, …).
  public var maxFileSize: Int64?

  public init(images: [String], output: String) {
    self.images = images
    self.output = output
  }

  /// `hoist pull` takes `REF DEST`, or with `--output`, any number of images.
  public init(arguments: [String], output: String?) throws(PlanError) {
    guard let output else {
      guard arguments.count == 2 else { throw PlanError("give one image and a destination, or --output") }
      self.init(images: [arguments[0]], output: arguments[1])
      return
    }
    guard !arguments.isEmpty else { throw PlanError("name at least one image") }
    self.init(images: arguments, output: output)
  }

  /// The output's format, as given or as its name implies.
  public var outputFormat: OutputFormat { format ?? OutputFormat.implied(by: output, delta: !since.isEmpty) }

  /// Refuses what cannot be pulled as asked.
  public func validate() throws(PlanError) {
    try PlanRules.check(referrers: referrers, against: uncompressedLayers ? "--uncompressed-layers" : nil)
    try PlanRules.check(referrers: referrers, intoDir: format == .dir, verb: "pull")
    try PlanRules.check(concurrency: concurrency)
    try PlanRules.check(jobs: imagesAtOnce)
    if format == .dir && images.count > 1 {
      throw PlanError("a dir: folder holds one image; pull several into an OCI layout or archive")
    }
    try PlanRules.check(since: since, into: outputFormat)
    if let maxFileSize {
      guard [.ociArchive, .dockerArchive].contains(outputFormat) else {
        throw PlanError("--max-file-size splits a tar; write to a .tar, or give --format oci-archive or docker-archive")
      }
      guard maxFileSize >= PlanRules.minimumPartSize else { throw PlanError("--max-file-size must be at least 1MiB") }
    }
  }

  /// The images as references.
  public func references() throws -> [Reference] {
    try images.map { try Reference(parsing: $0).tagged }
  }

  /// What a pull did: each image's reference and digest, and what an interrupted earlier run left that it
  /// reused.
  public struct Result: Sendable {
    public var stored: [(name: String, digest: Digest)]
    public var reusedBlobs: Int
    public var reusedPartialBytes: Int64
  }

  /// Pulls every image into the output, named by its reference; the output appears only when complete.
  public func run(in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void) async throws -> Result {
    let references = try references()
    let destination = try LayoutDestination(
      path: output, format: outputFormat, uncompressedLayers: uncompressedLayers, maxFileSize: maxFileSize)
    if !since.isEmpty { await destination.leaveOut(try PlanRules.base(since: since), since: since) }
    if let notice = PlanRules.deltaFormatNotice(output: output, given: format, since: since) {
      progress(.notice(notice))
    }
    let options = session.settings.copyOptions(concurrency: concurrency).carrying(referrers)
    let engine = CopyEngine(options: options, cache: session.blobInfo, progress: progress)
    let platform = platform
    let several = references.count > 1
    let stored = try await engine.run(
      references.map { reference in
        ImageCopy(
          source: { try session.source(.registry(reference), platform: platform) },
          targets: [CopyTarget(destination: destination, tags: [reference.description])],
          label: several ? reference.description : nil)
      }, jobs: imagesAtOnce)
    let reused = await destination.reusedFromEarlierRun
    return Result(
      stored: Array(zip(references.map(\.description), stored.map(\.digest))), reusedBlobs: reused.blobs,
      reusedPartialBytes: reused.partialBytes)
  }
}

/// What `hoist copy` does, as a value: one image between any two places a location names.
public struct CopyPlan: Sendable {
  public var source: ImageLocation
  public var destination: ImageLocation
  public var concurrency = 4
  /// Docker archive layers as plain tars, for old loaders.
  public var uncompressedLayers = false
  public var platform = PlatformChoice.host
  /// Referrers asked for; nil carries every one a file source holds (a registry's only when asked for),
  /// unless `referrersLeftOut`.
  public var referrers: ReferrerSelection?
  /// Leave a file's referrers behind (`--no-referrers`), saying how many.
  public var referrersLeftOut = false
  /// A SOCI index for each image (`--soci`, `hoist soci create`); nil builds none.
  public var soci: SociSettings?

  public init(source: ImageLocation, destination: ImageLocation) {
    self.source = source
    self.destination = destination
  }

  /// `hoist soci create`: the image with a SOCI index for each of its platforms (`platform` narrows it to
  /// one), as `soci convert --all-platforms` makes them.
  public static func sociCreate(
    source: ImageLocation, destination: ImageLocation, platform: Platform?, settings: SociSettings
  ) -> CopyPlan {
    var plan = CopyPlan(source: source, destination: destination)
    plan.platform = platform.map { .only($0) } ?? .all
    plan.soci = settings
    return plan
  }

  /// Refuses what cannot be copied as asked.
  public func validate() throws(PlanError) {
    try PlanRules.check(referrers: referrers, leftOut: referrersLeftOut)
    try PlanRules.check(
      referrers: referrers, against: uncompressedLayers ? "--uncompressed-layers" : soci == nil ? nil : "--soci")
    try PlanRules.check(soci: soci, destination: destination, keepDigests: destination.namesDigest)
    try PlanRules.check(referrers: referrers, intoDir: destination.isDirFolder, verb: "copy")
    try PlanRules.check(concurrency: concurrency)
  }

  /// The engine's options: a file's referrers travel by default; a manifest hoist builds (from a `docker
  /// save`) goes into an OCI layout in OCI terms, and a destination named by digest keeps every digest.
  public func copyOptions(_ settings: SessionSettings) -> CopyOptions {
    var options = settings.copyOptions(concurrency: concurrency)
    if case .file = source {
      let unfit =
        destination.isDirFolder
        ? "a dir: folder holds no referrers"
        : uncompressedLayers ? "--uncompressed-layers changes the image's digest" : nil
      options = options.carrying(
        fromFile: PlanRules.referrers(fromFile: referrers, leftOut: referrersLeftOut, unfit: unfit))
    } else {
      options = options.carrying(referrers)
    }
    if case .file(_, let format, _) = destination, format != .dockerArchive { options.builtFormat = .oci }
    options.keepDigests = destination.namesDigest
    options.building(soci)
    return options
  }

  /// The registry hosts the copy talks to.
  public var hosts: [String] { [source.registryHost, destination.registryHost].compactMap { $0 } }

  /// Copies the image; returns its root descriptor as stored.
  public func run(in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void) async throws
    -> Descriptor
  {
    let engine = CopyEngine(
      options: copyOptions(session.settings), cache: session.blobInfo, progress: progress)
    let imageSource = try session.source(source, platform: platform)
    let target = try session.target(destination, naming: source, uncompressedLayers: uncompressedLayers)
    let copy = ImageCopy(source: { imageSource }, targets: [target])
    if case .file(let path, _, _) = source, let delta = try DeltaRecord.read(bundle: path) {
      try await DeltaCheck(record: delta, cache: engine.cache).check([copy], bundle: path)
    }
    return try await engine.run([copy])[0]
  }
}
