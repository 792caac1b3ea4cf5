import Archives
import ArgumentParser
import Foundation
import Hoist
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
  @Option(name: .long, help: "With --output: a bundle or inventory whose blobs to leave out (repeatable).")
  var since: [String] = []
  @Option(name: .long, help: "With --output: write a .tar larger than this in parts, e.g. 4GiB.")
  var maxFileSize: ByteCount?
  @Option(name: .long, help: "How many blobs to move at once.") var concurrency = 4

  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    try usage {
      try SyncPlan.validate(
        registry: registry, output: output, concurrency: concurrency, since: since,
        maxFileSize: maxFileSize.map { Int64($0.bytes) })
    }
  }

  func run() async throws {
    var failed = false
    try await reportingErrors {
      var plan = SyncPlan(list: try SyncPlan.read(file), path: file, registry: registry, output: output)
      (plan.concurrency, plan.referrers) = (concurrency, carried.selection)
      (plan.since, plan.maxFileSize) = (since, maxFileSize.map { Int64($0.bytes) })
      let reporter = display.reporter(verb: "copy")
      defer { reporter.finish() }
      failed = try await connection.withConnection(
        hosts: try plan.hosts(), plainHTTP: plan.plainHosts, credentials: plan.credentials
      ) { session in
        let (items, unlisted) = await plan.items(in: session)
        if dryRun {
          for item in items { print("\(item.source) -> \(item.destination?.description ?? output ?? "")") }
        }
        let outcomes = unlisted + (dryRun ? [] : try await plan.copy(items, in: session, progress: reporter.report))
        reporter.finish()
        return report(outcomes)
      }
    }
    if failed { throw ExitStatus.failure }
  }

  /// Prints each image's line and the summary; true when something failed.
  func report(_ outcomes: [SyncPlan.Outcome]) -> Bool {
    var (copied, skipped, failures) = (0, 0, [String]())
    for outcome in outcomes {
      switch outcome {
      case .copied(let name, let digest):
        print("\(name)@\(digest)")
        copied += 1
      case .alreadyThere(let name, let digest):
        print("\(name)@\(digest)")
        skipped += 1
      case .failed(let place, let error): failures.append((place.map { "\($0): " } ?? "") + oneLine(error))
      }
    }
    if !dryRun || !failures.isEmpty {
      printError("sync: \(copied) copied, \(skipped) already there, \(failures.count) failed")
    }
    for failure in failures { printError("failed: \(failure)") }
    return !failures.isEmpty
  }
}
