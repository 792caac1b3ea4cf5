import Archives
import Foundation
import Mirror
import OCI
import Registry
import Streams
import Transfer

/// What `hoist sync` does, as a value: mirror the images a skopeo sync YAML file lists into a registry, or
/// into one bundle.
public struct SyncPlan: Sendable {
  /// The list, and the file it came from (for messages).
  public var list: SyncFile
  public var path: String
  /// The registry (`HOST` or `HOST/PATH`) to mirror into, or
  public var registry: String?
  /// the docker archive or OCI layout to write every image into.
  public var output: String?
  public var concurrency = 4
  /// How many images move at once (`--jobs`).
  public var imagesAtOnce = PlanRules.defaultJobs
  /// The part of the list this run takes, when the mirror is split across runs.
  public var shard: Shard?
  /// Create missing ECR repositories in the destination.
  public var createRepositories = false
  public var referrers: ReferrerSelection?
  /// With `output`: bundles or inventories whose blobs it leaves out (a delta), and the largest file it is
  /// written in (parts beyond).
  public var since = [String]()
  public var maxFileSize: Int64?

  public init(list: SyncFile, path: String, registry: String?, output: String?) {
    self.list = list
    self.path = path
    self.registry = registry
    self.output = output
  }

  /// Checks the options alone, before the file is read.
  public static func validate(
    registry: String?, output: String?, concurrency: Int, jobs: Int = PlanRules.defaultJobs, since: [String] = [],
    maxFileSize: Int64? = nil
  ) throws(PlanError) {
    if (registry == nil) == (output == nil) { throw PlanError("give --registry or --output, one of them") }
    try PlanRules.check(concurrency: concurrency)
    try PlanRules.check(jobs: jobs)
    if output == nil && (!since.isEmpty || maxFileSize != nil) {
      throw PlanError("--since and --max-file-size shape a bundle; give --output")
    }
    if let output {
      let format = OutputFormat.implied(by: output, delta: !since.isEmpty)
      if let maxFileSize, format == .oci || maxFileSize < PlanRules.minimumPartSize {
        throw PlanError("--max-file-size splits a .tar bundle into parts of at least 1MiB")
      }
    }
  }

  /// The shard a run takes: `--shard INDEX/COUNT`, else a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`
  /// with `--shard-count` or `JOB_COMPLETIONS` for the count; nil (the whole list) when none is given.
  public static func shard(flag: String?, count: Int?, environment: [String: String]) throws(PlanError) -> Shard? {
    let usage = "--shard takes INDEX/COUNT, with INDEX from 0 to COUNT-1 (e.g. 0/4)"
    if let flag {
      guard count == nil else { throw PlanError("give --shard INDEX/COUNT or --shard-count, not both") }
      let parts = flag.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
      guard parts.count == 2, let index = parts[0], let total = parts[1], total >= 1, (0..<total).contains(index) else {
        throw PlanError(usage)
      }
      return Shard(index: index, count: total)
    }
    let variable = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
    guard let indexText = variable("JOB_COMPLETION_INDEX") else {
      if count != nil {
        throw PlanError("--shard-count goes with JOB_COMPLETION_INDEX (an Indexed Job); else give --shard")
      }
      return nil
    }
    guard let index = Int(indexText) else { throw PlanError("JOB_COMPLETION_INDEX is \(indexText), not a number") }
    guard let total = count ?? variable("JOB_COMPLETIONS").flatMap({ Int($0) }) else {
      throw PlanError(
        "JOB_COMPLETION_INDEX is \(index) but the number of shards is unknown: give --shard-count or set JOB_COMPLETIONS"
      )
    }
    guard total >= 1, (0..<total).contains(index) else {
      throw PlanError("JOB_COMPLETION_INDEX \(index) is not a shard of \(total) (0 to \(total - 1))")
    }
    return Shard(index: index, count: total)
  }

  /// Reads the list at `path`.
  public static func read(_ path: String) throws -> SyncFile {
    guard let data = FileManager.default.contents(atPath: path) else { throw ArchiveError.missing(path: path) }
    return try SyncFile(yaml: String(decoding: data, as: UTF8.self), path: path)
  }

  /// The registries the list asks to reach over plain HTTP (`tls-verify: false`).
  public var plainHosts: Set<String> { Set(entries.filter { !$0.tlsVerify }.map(\.registry)) }

  /// Credentials the list gives, by registry.
  public var credentials: [String: RegistryCredentials] {
    var credentials = [String: RegistryCredentials]()
    for image in entries {
      if let username = image.username, let password = image.password {
        credentials[image.registry] = RegistryCredentials(username: username, password: password)
      }
    }
    return credentials
  }

  /// Every registry host the mirror touches.
  public func hosts() throws -> [String] {
    let destination = try registry.map { try Reference.placing("x", under: $0).registry }
    return Array(Set(entries.map(\.registry))) + (destination.map { [$0] } ?? [])
  }

  /// One image to carry: from where, and (into a registry) to where.
  public struct Item: Sendable {
    public var source: Reference
    public var destination: Reference?
    /// How results name it: its destination, else its source.
    public var name: String { destination?.description ?? source.description }
  }

  /// What became of an image (named as `Item.name` names it), or of an entry of the list.
  public enum Outcome: Sendable {
    /// Copied, with the bytes sent for it.
    case copied(String, Digest, bytes: Int64)
    case alreadyThere(String, Digest)
    /// An image, or an entry (`where` names the entry's line), that failed.
    case failed(String, where: String?, any Error)
  }

  /// The entries of the list this run takes: all of them, or its shard's.
  public var entries: [SyncFile.Image] { shard?.images(of: list) ?? list.images }

  /// The images every entry of this run names (each repository's tags listed once, several repositories at
  /// once, where a regex or range selects them), and a failure for each entry that could not be listed.
  public func items(in session: Session) async -> (items: [Item], failures: [Outcome]) {
    let entries = entries
    var seen = Set<String>()
    let toList = entries.filter { $0.needsTags && seen.insert($0.name).inserted }
    let tags = await inParallel(toList, width: Self.checksAtOnce) { image -> Result<[String], any Error> in
      do {
        return .success(try await session.client(for: image.registry).tags(repository: image.repository))
      } catch {
        return .failure(error)
      }
    }
    let listed = Dictionary(uniqueKeysWithValues: zip(toList.map(\.name), tags))
    var items = [Item]()
    var failures = [Outcome]()
    for image in entries {
      do {
        let available = try listed[image.name]?.get() ?? []
        items += try self.items(image, tags: SyncFile.tags(image.selection, of: available))
      } catch {
        failures.append(.failed(image.name, where: "\(path):\(image.line)", error))
      }
    }
    return (items, failures)
  }

  /// How many repositories are listed, or tags compared, at once.
  static let checksAtOnce = 16

  private func items(_ image: SyncFile.Image, tags: [String]) throws -> [Item] {
    try tags.map { tag in
      let byDigest = tag.hasPrefix("sha256:")
      let source = try Reference(parsing: "\(image.registry)/\(image.repository)\(byDigest ? "@" : ":")\(tag)")
      guard let registry else { return Item(source: source) }
      var destination = try Reference.placing(
        "\(image.repository):\(byDigest ? Reference.defaultTag : tag)", under: registry)
      if byDigest {
        destination.tag = nil
        destination.digest = source.digest
      }
      return Item(source: source, destination: destination)
    }
  }
}

extension SyncFile.Image {
  /// `registry/repository`.
  var name: String { "\(registry)/\(repository)" }

  /// Whether the entry's tags must be listed (every tag, a regex, a range).
  var needsTags: Bool {
    if case .tags(let listed) = selection { return listed.isEmpty }
    return true
  }
}
