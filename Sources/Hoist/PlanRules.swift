import Archives
import OCI
import Transfer

/// The rules more than one plan checks, each written once.
public enum PlanRules {
  /// How many blobs a job may move at once.
  public static let concurrency = 1...64

  /// The smallest upload chunk a user may ask for (ECR's smallest part).
  public static let minimumChunkSize = 5 << 20

  /// The smallest part a split bundle may be made of.
  public static let minimumPartSize: Int64 = 1 << 20

  /// Refuses a `--concurrency` outside `concurrency`.
  public static func check(concurrency: Int) throws(PlanError) {
    guard Self.concurrency.contains(concurrency) else {
      throw PlanError(
        "--concurrency must be between \(Self.concurrency.lowerBound) and \(Self.concurrency.upperBound)")
    }
  }

  /// How many images `--jobs` may move at once, and how many move unless it says.
  public static let jobs = 1...32
  public static let defaultJobs = 4

  /// Refuses a `--jobs` outside `jobs`.
  public static func check(jobs: Int) throws(PlanError) {
    guard Self.jobs.contains(jobs) else {
      throw PlanError("--jobs must be between \(Self.jobs.lowerBound) and \(Self.jobs.upperBound)")
    }
  }

  /// Refuses a `--max-requests-per-second` that is not a positive number.
  public static func check(requestsPerSecond: Double?) throws(PlanError) {
    guard let requestsPerSecond else { return }
    guard requestsPerSecond > 0, requestsPerSecond.isFinite else {
      throw PlanError("--max-requests-per-second must be a number above 0")
    }
  }

  /// The span sizes `--soci-span-size` takes: each is the block size hoist compresses in, held in memory
  /// once per core.
  public static let sociSpanSizes = (256 << 10)...(64 << 20)

  /// Refuses SOCI settings out of bounds, and `--soci` with what cannot hold a SOCI index: a Docker
  /// schema 2 manifest list (`format`), a destination that is not a registry or an OCI layout
  /// (`destination`), digests that must stay (`keepDigests`), zstd layers hoist would write.
  public static func check(
    soci: SociSettings?, format: ManifestFormat? = nil, destination: ImageLocation? = nil, keepDigests: Bool = false,
    compression: CompressionKind = .gzip
  ) throws(PlanError) {
    guard let soci else { return }
    if !sociSpanSizes.contains(soci.spanSize) { throw PlanError("--soci-span-size must be between 256KiB and 64MiB") }
    if soci.minLayerSize < 0 { throw PlanError("--soci-min-layer-size must not be negative") }
    if format == .docker {
      throw PlanError("a SOCI index goes in an OCI image index; --soci cannot write --format docker")
    }
    if compression == .zstd { throw PlanError("SOCI reads gzip layers only; --soci cannot go with --compression zstd") }
    if keepDigests {
      throw PlanError("--soci changes the image manifest's digest (it names its SOCI index); give a tag, not a digest")
    }
    if case .file(_, let kind, _) = destination, kind == .dockerArchive || kind == .dir {
      throw PlanError("a \(kind.rawValue) holds no SOCI index; copy --soci to a registry or an OCI layout")
    }
  }

  /// Refuses referrers together with an option that changes manifest digests (`conflict`, when set):
  /// referrers name their subject by digest, so it must stay.
  public static func check(referrers: ReferrerSelection?, against conflict: String?) throws(PlanError) {
    if referrers != nil, let conflict {
      throw PlanError(
        "--referrers keeps every digest, which \(conflict) would change; referrers name their images by digest")
    }
  }

  /// The referrers a copy from a file carries: those asked for; else none, with the reason they stay
  /// behind (`--no-referrers`, or `unfit`: the destination cannot hold them as they are); else every one
  /// the file holds (they were put there on purpose), as an implied selection.
  public static func referrers(
    fromFile asked: ReferrerSelection?, leftOut: Bool, unfit: String? = nil
  ) -> (selection: ReferrerSelection?, leftOutBecause: String?) {
    if let asked { return (asked, nil) }
    if leftOut { return (nil, "--no-referrers") }
    if let unfit { return (nil, unfit) }
    return (ReferrerSelection(implied: true), nil)
  }

  /// Push destinations as written (`REF`, `+TAG` for another tag of the one before), parsed.
  public static func destinations(_ texts: [String]) throws(PlanError) -> [(text: String, reference: Reference)] {
    do {
      return try Reference.destinations(texts)
    } catch {
      throw PlanError(error.description)
    }
  }

  /// Refuses `--no-referrers` beside `--referrers` or `--referrers-type`.
  public static func check(referrers: ReferrerSelection?, leftOut: Bool) throws(PlanError) {
    if referrers != nil && leftOut { throw PlanError("--no-referrers and --referrers exclude each other") }
  }

  /// Refuses a delta (`--since`) in a format whose readers need every blob: `docker load` reads a docker
  /// archive whole, and a `dir:` folder is one image's every file.
  public static func check(since: [String], into format: OutputFormat) throws(PlanError) {
    guard !since.isEmpty, format == .dockerArchive || format == .dir else { return }
    throw PlanError(
      "a delta bundle (--since) leaves blobs out, which \(format.rawValue) cannot; write it as an OCI layout "
        + "or an OCI tar (--format oci-archive)")
  }

  /// What says that a delta bundle named `NAME.tar` with no `--format` is an OCI tar, not the docker
  /// archive the name would otherwise make; nil for any other output.
  public static func deltaFormatNotice(output: String, given: OutputFormat?, since: [String]) -> String? {
    guard given == nil, !since.isEmpty, OutputFormat.implied(by: output, delta: true) == .ociArchive else { return nil }
    return "\(output) is written as an OCI tar (oci-archive): a delta bundle leaves out blobs that docker load needs"
  }

  /// Refuses a `--min-remaining` that is not a count of pulls (0 to 1,000,000).
  public static func check(minRemaining: Int?) throws(PlanError) {
    if let minRemaining, !(0...1_000_000).contains(minRemaining) {
      throw PlanError("--min-remaining takes a count from 0 to 1000000")
    }
  }

  /// What the bundles and inventories `since` names hold, for a delta to leave out.
  public static func base(since: [String]) throws -> DeltaBase.Held {
    try since.reduce(into: DeltaBase.Held()) { $0.add(try DeltaBase.held(at: $1)) }
  }

  /// Refuses referrers into a `dir:` folder, which holds one image and nothing else.
  public static func check(referrers: ReferrerSelection?, intoDir: Bool, verb: String) throws(PlanError) {
    if referrers != nil, intoDir {
      throw PlanError("a dir: folder holds one image and no referrers; \(verb) to an OCI layout or archive")
    }
  }
}

extension CopyOptions {
  /// These options carrying `referrers` (nil: none), every digest then kept when they were asked for.
  public func carrying(_ referrers: ReferrerSelection?) -> CopyOptions {
    var options = self
    options.referrers = referrers
    if let referrers, !referrers.implied { options.keepDigests = true }
    return options
  }

  /// These options carrying a file's referrers as `PlanRules.referrers(fromFile:…)` chose.
  public func carrying(fromFile chosen: (selection: ReferrerSelection?, leftOutBecause: String?)) -> CopyOptions {
    var options = carrying(chosen.selection)
    options.referrersLeftOutBecause = chosen.leftOutBecause
    return options
  }
}
