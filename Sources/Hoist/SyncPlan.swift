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
    registry: String?, output: String?, concurrency: Int, since: [String] = [], maxFileSize: Int64? = nil
  ) throws(PlanError) {
    if (registry == nil) == (output == nil) { throw PlanError("give --registry or --output, one of them") }
    try PlanRules.check(concurrency: concurrency)
    if output == nil && (!since.isEmpty || maxFileSize != nil) {
      throw PlanError("--since and --max-file-size shape a bundle; give --output")
    }
    if let output {
      try PlanRules.check(since: since, into: OutputFormat.implied(by: output))
      if let maxFileSize, OutputFormat.implied(by: output) != .dockerArchive || maxFileSize < PlanRules.minimumPartSize
      {
        throw PlanError("--max-file-size splits a .tar bundle into parts of at least 1MiB")
      }
    }
  }

  /// Reads the list at `path`.
  public static func read(_ path: String) throws -> SyncFile {
    guard let data = FileManager.default.contents(atPath: path) else { throw ArchiveError.missing(path: path) }
    return try SyncFile(yaml: String(decoding: data, as: UTF8.self), path: path)
  }

  /// The registries the list asks to reach over plain HTTP (`tls-verify: false`).
  public var plainHosts: Set<String> { Set(list.images.filter { !$0.tlsVerify }.map(\.registry)) }

  /// Credentials the list gives, by registry.
  public var credentials: [String: RegistryCredentials] {
    var credentials = [String: RegistryCredentials]()
    for image in list.images {
      if let username = image.username, let password = image.password {
        credentials[image.registry] = RegistryCredentials(username: username, password: password)
      }
    }
    return credentials
  }

  /// Every registry host the mirror touches.
  public func hosts() throws -> [String] {
    let destination = try registry.map { try Reference.placing("x", under: $0).registry }
    return Array(Set(list.images.map(\.registry))) + (destination.map { [$0] } ?? [])
  }

  /// One image to carry: from where, and (into a registry) to where.
  public struct Item: Sendable {
    public var source: Reference
    public var destination: Reference?
    /// How results name it: its destination, else its source.
    public var name: String { destination?.description ?? source.description }
  }

  /// What became of an image, or of an entry of the list.
  public enum Outcome: Sendable {
    case copied(String, Digest)
    case alreadyThere(String, Digest)
    /// An image or an entry (`where` names the entry's line) that failed.
    case failed(where: String?, any Error)
  }

  /// The images every entry names (listing tags where a regex or range selects them), and a failure line
  /// for each entry that could not be listed.
  public func items(in session: Session) async -> (items: [Item], failures: [Outcome]) {
    var items = [Item]()
    var failures = [Outcome]()
    for image in list.images {
      do {
        items += try await self.items(image, session)
      } catch {
        failures.append(.failed(where: "\(path):\(image.line)", error))
      }
    }
    return (items, failures)
  }

  private func items(_ image: SyncFile.Image, _ session: Session) async throws -> [Item] {
    var tags = [String]()
    if case .tags(let listed) = image.selection, !listed.isEmpty {
      tags = listed
    } else {
      let client = try session.client(for: image.registry)
      tags = SyncFile.tags(image.selection, of: try await client.tags(repository: image.repository))
    }
    return try tags.map { tag in
      let byDigest = tag.hasPrefix("sha256:")
      let source = try Reference(parsing: "\(image.registry)/\(image.repository)\(byDigest ? "@" : ":")\(tag)")
      guard let registry else { return Item(source: source) }
      var destination = try Reference.placing("\(image.repository):\(byDigest ? "latest" : tag)", under: registry)
      if byDigest {
        destination.tag = nil
        destination.digest = source.digest
      }
      return Item(source: source, destination: destination)
    }
  }

  /// Copies the items; into a registry without referrers, an image whose destination tag holds its digest
  /// already is not copied again. A failed image does not stop the others.
  public func copy(
    _ items: [Item], in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void
  ) async throws -> [Outcome] {
    let engine = CopyEngine(
      options: session.settings.copyOptions(concurrency: concurrency).carrying(referrers),
      cache: session.settings.blobInfoCache(), progress: progress)
    let bundle = try output.map {
      try LayoutDestination(
        path: $0, format: OutputFormat.implied(by: $0), uncompressedLayers: false, maxFileSize: maxFileSize)
    }
    if let bundle, !since.isEmpty { await bundle.leaveOut(try PlanRules.blobs(since: since), since: since) }
    var copies = [ImageCopy]()
    var copied = [Item]()
    var outcomes = [Outcome]()
    for item in items {
      let source = RegistrySource(
        client: try session.client(for: item.source), repository: item.source.repository,
        reference: item.source.manifestReference, platform: .all)
      let target: CopyTarget
      if let bundle {
        target = CopyTarget(destination: bundle, tags: [item.source.description])
      } else if let reference = item.destination {
        let destination = RegistryDestination(
          client: try session.client(for: reference), repository: reference.repository,
          chunkSize: RegistryDestination.defaultChunkSize)
        // With referrers, an image already mirrored is copied again (blobs found, nothing sent), so that
        // signatures added since reach the mirror.
        if referrers == nil, let tag = reference.tag,
          let there = try? await Self.alreadyThere(source, at: destination, tag: tag)
        {
          outcomes.append(.alreadyThere(item.name, there))
          continue
        }
        target = CopyTarget(destination: destination, tags: reference.tag.map { [$0] } ?? [])
      } else {
        continue
      }
      copies.append(ImageCopy(source: { source }, targets: [target]))
      copied.append(item)
    }
    for (item, result) in zip(copied, try await engine.runEach(copies)) {
      switch result {
      case .success(let stored): outcomes.append(.copied(item.name, stored.digest))
      case .failure(let error): outcomes.append(.failed(where: nil, error))
      }
    }
    return outcomes
  }

  /// The digest the destination tag holds, when it is the source's: the image is there already.
  static func alreadyThere(_ source: RegistrySource, at destination: RegistryDestination, tag: String) async throws
    -> Digest?
  {
    guard let current = try await destination.currentManifest(tag: tag),
      let served = try await source.client.manifest(repository: source.repository, reference: source.reference)
    else { return nil }
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(served.bytes))
    return Digest(sha256Bytes: SHA256Hasher.hash(current.bytes)) == digest ? digest : nil
  }
}
