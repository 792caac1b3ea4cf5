import Archives
import ArgumentParser
import Foundation
import Mirror
import OCI
import Registry
import Streams
import Transfer

/// `hoist sync FILE`: mirror the images a skopeo sync YAML file lists, into a registry or one bundle.
struct SyncCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sync",
    abstract: "Mirror the images a YAML file lists (skopeo sync's format) into a registry or a bundle.",
    discussion: """
      FILE is in skopeo sync's YAML format: registries as keys, each with images (REPO: [TAGS or digests], an
      empty list for every tag), images-by-tag-regex (REPO: REGEX), images-by-semver (REPO: RANGE), and
      optionally credentials (username, password) and tls-verify (false: plain HTTP). Every platform of an
      index is carried, digests kept. With --registry R (HOST or HOST/PATH) each image goes to R/REPO:TAG; an
      image whose tag there already has its digest is skipped without moving a blob. With --output, all go
      into one docker archive or OCI layout. A failed image does not stop the others: the summary on stderr
      names it and the exit status is 1. stdout has DEST@sha256:<digest> for each image copied or already there.

      Examples:
        hoist sync images.yaml --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror --dry-run
        hoist sync images.yaml --output bundle.tar
      """
  )

  @Argument(help: "The YAML file that lists the images.") var file: String

  @Option(name: .long, help: "The registry (HOST or HOST/PATH) to mirror into.") var registry: String?
  @Option(name: .long, help: "A docker archive (.tar) or OCI layout to write every image into instead.")
  var output: String?
  @Flag(name: .long, help: "Print what would be copied, and copy nothing.") var dryRun = false
  @Option(name: .long, help: "How many blobs to move at once.") var concurrency = 4

  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if (registry == nil) == (output == nil) { throw ValidationError("give --registry or --output, one of them") }
    if !(1...64).contains(concurrency) { throw ValidationError("--concurrency must be between 1 and 64") }
  }

  /// What a run did.
  struct Summary {
    var copied = 0
    var skipped = 0
    var failures = [String]()
  }

  /// One image to carry: from where, and (with --registry) to where.
  struct Item {
    var source: Reference
    var destination: Reference?
    var name: String { destination?.description ?? source.description }
  }

  func run() async throws {
    var failed = false
    try await reportingErrors {
      guard let data = FileManager.default.contents(atPath: file) else { throw ArchiveError.missing(path: file) }
      let sync = try SyncFile(yaml: String(decoding: data, as: UTF8.self), path: file)
      let plain = Set(sync.images.filter { !$0.tlsVerify }.map(\.registry))
      var credentials = [String: RegistryCredentials]()
      for image in sync.images {
        if let username = image.username, let password = image.password {
          credentials[image.registry] = RegistryCredentials(username: username, password: password)
        }
      }
      let destinationHost = try registry.map { try Reference.placing("x", under: $0).registry }
      let hosts = Array(Set(sync.images.map(\.registry))) + (destinationHost.map { [$0] } ?? [])
      let reporter = display.reporter(verb: "copy")
      defer { reporter.finish() }
      failed = try await connection.withConnection(hosts: hosts, plainHTTP: plain, credentials: credentials) {
        connected in
        var failures = [String]()
        var items = [Item]()
        for image in sync.images {
          do {
            items += try await self.items(image, connected)
          } catch {
            failures.append("\(file):\(image.line): \(oneLine(error))")
          }
        }
        var summary = Summary()
        if dryRun {
          for item in items { print("\(item.source) -> \(item.destination?.description ?? output ?? "")") }
        } else {
          summary = try await copy(items, connected, reporter)
        }
        summary.failures = failures + summary.failures
        reporter.finish()
        if !dryRun || !failures.isEmpty {
          printError(
            "sync: \(summary.copied) copied, \(summary.skipped) already there, \(summary.failures.count) failed")
        }
        for failure in summary.failures { printError("failed: \(failure)") }
        return !summary.failures.isEmpty
      }
    }
    if failed { throw ExitStatus.failure }
  }

  /// The images a file entry names: its tags (listed, or the repository's that the regex or range takes).
  func items(_ image: SyncFile.Image, _ connected: Connection) async throws -> [Item] {
    var tags = [String]()
    if case .tags(let listed) = image.selection, !listed.isEmpty {
      tags = listed
    } else {
      let client = try connected.client(for: image.registry)
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

  /// Copies the items (skipping, with --registry and without --referrers, those whose destination has the
  /// digest already).
  func copy(_ items: [Item], _ connected: Connection, _ reporter: ProgressReporter) async throws -> Summary {
    let engine = CopyEngine(
      options: carried.applied(to: connection.copyOptions(concurrency: concurrency)), cache: connection.blobInfoCache(),
      progress: reporter.report)
    let bundle = try output.map {
      try LayoutDestination(path: $0, format: OutputFormat.implied(by: $0), uncompressedLayers: false)
    }
    var copies = [ImageCopy]()
    var copied = [Item]()
    var summary = Summary()
    for item in items {
      let source = RegistrySource(
        client: try connected.client(for: item.source.registry), repository: item.source.repository,
        reference: item.source.digest?.description ?? item.source.tag ?? "latest", platform: .all)
      let target: CopyTarget
      if let bundle {
        target = CopyTarget(destination: bundle, tags: [item.source.description])
      } else if let reference = item.destination {
        let destination = RegistryDestination(
          client: try connected.client(for: reference.registry, endpoint: reference.endpointHost),
          repository: reference.repository, chunkSize: RegistryDestination.defaultChunkSize)
        // With referrers, an image already mirrored is copied again (blobs found, nothing sent), so that
        // signatures added since reach the mirror.
        if carried.selection == nil, let tag = reference.tag,
          let there = try? await alreadyThere(source, at: destination, tag: tag)
        {
          print("\(item.name)@\(there)")
          summary.skipped += 1
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
      case .success(let stored):
        print("\(item.name)@\(stored.digest)")
        summary.copied += 1
      case .failure(let error): summary.failures.append(oneLine(error))
      }
    }
    return summary
  }

  /// The digest the destination tag holds, when it is the source's: the image is there already.
  func alreadyThere(_ source: RegistrySource, at destination: RegistryDestination, tag: String) async throws -> Digest?
  {
    guard let current = try await destination.currentManifest(tag: tag),
      let served = try await source.client.manifest(repository: source.repository, reference: source.reference)
    else { return nil }
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(served.bytes))
    return Digest(sha256Bytes: SHA256Hasher.hash(current.bytes)) == digest ? digest : nil
  }
}
