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

      --jobs images move at once; a blob they share is sent once. Every registry gets one request limiter:
      it slows down when the registry throttles (429, 503, AWS throttling; Retry-After honoured) and speeds
      up again. --shard INDEX/COUNT takes a stable part of the list (whole repositories), so COUNT runs on
      as many machines mirror it together; in a Kubernetes Indexed Job, JOB_COMPLETION_INDEX with
      --shard-count (or JOB_COMPLETIONS) says the same. --report writes what the run did as JSON.

      --min-remaining N keeps at least N of a source registry's stated pulls (Docker Hub's
      RateLimit-Remaining) in each window: before a manifest GET would spend the count under N, the sync
      pauses until the window starts again (a note says until when), or with --min-remaining-action stop,
      stops there: the images left fail with exit status 1, and a rerun continues. The count is read with a
      HEAD, which Docker Hub does not count. A registry that states no limit is not slowed.

      Examples:
        hoist sync images.yaml --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror --dry-run
        hoist sync images.yaml --output bundle.tar
        hoist sync images.yaml --registry mirror.example.com --shard 2/8 --report shard-2.json
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
  @Option(name: .long, help: "How many blobs to move at once, per image.") var concurrency = 4
  @Option(name: .long, help: "How many images to move at once.") var jobs = PlanRules.defaultJobs
  @Option(name: .long, help: "Take part INDEX of COUNT of the list (INDEX from 0), e.g. 0/4.") var shard: String?
  @Option(name: .long, help: "The number of shards, with JOB_COMPLETION_INDEX (else JOB_COMPLETIONS).")
  var shardCount: Int?
  @Option(name: .long, help: "Write what the run did (copied, already there, failed, bytes, time) as JSON.")
  var report: String?
  @Flag(name: .long, help: "Create missing Amazon ECR repositories in the destination.") var createRepository = false
  @Option(
    name: .long,
    help: "Keep at least N of a source registry's stated pulls (Docker Hub's RateLimit-Remaining) in each window.")
  var minRemaining: Int?
  @Option(name: .long, help: "At the --min-remaining floor: pause until the window starts again, or stop.")
  var minRemainingAction: PullFloor.Action = .pause

  @OptionGroup var carried: ReferrerOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    try usage {
      try SyncPlan.validate(
        registry: registry, output: output, concurrency: concurrency, jobs: jobs, since: since,
        maxFileSize: maxFileSize.map { Int64($0.bytes) })
      _ = try SyncPlan.shard(flag: shard, count: shardCount, environment: ProcessInfo.processInfo.environment)
      try PlanRules.check(minRemaining: minRemaining)
    }
  }

  func run() async throws {
    var failed = false
    try await reportingErrors {
      let started = Date()
      var plan = SyncPlan(list: try SyncPlan.read(file), path: file, registry: registry, output: output)
      (plan.concurrency, plan.imagesAtOnce, plan.referrers) = (concurrency, jobs, carried.selection)
      plan.createRepositories = createRepository
      plan.shard = try SyncPlan.shard(flag: shard, count: shardCount, environment: ProcessInfo.processInfo.environment)
      (plan.since, plan.maxFileSize) = (since, maxFileSize.map { Int64($0.bytes) })
      let reporter = display.reporter(verb: "copy")
      defer { reporter.finish() }
      let floor = minRemaining.map {
        PullFloor.Setting(floor: $0, action: minRemainingAction) { reporter.report(.notice($0)) }
      }
      failed = try await connection.withConnection(
        hosts: try plan.hosts(), plainHTTP: plan.plainHosts, credentials: plan.credentials,
        adjust: { $0.minRemaining = floor }
      ) { session in
        let (items, unlisted) = await plan.items(in: session)
        if dryRun {
          for item in items { print("\(item.source) -> \(item.destination?.description ?? output ?? "")") }
        }
        let outcomes = unlisted + (dryRun ? [] : try await plan.copy(items, in: session, progress: reporter.report))
        reporter.finish()
        let summary = SyncReport(outcomes, shard: plan.shard, seconds: Date().timeIntervalSince(started))
        if let report { try writeAtomically(try summary.json(), to: report) }
        return show(summary, outcomes)
      }
    }
    if failed { throw ExitStatus.failure }
  }

  /// Prints each image's line and the summary; true when something failed.
  func show(_ summary: SyncReport, _ outcomes: [SyncPlan.Outcome]) -> Bool {
    for outcome in outcomes {
      switch outcome {
      case .copied(let name, let digest, _), .alreadyThere(let name, let digest): print("\(name)@\(digest)")
      case .failed: break
      }
    }
    if !dryRun || !summary.failed.isEmpty {
      printError("sync: \(summary.summary)" + (summary.shard.map { " (shard \($0))" } ?? ""))
    }
    for failure in summary.failed { printError("failed: \(failure.error)") }
    return !summary.failed.isEmpty
  }
}

extension PullFloor.Action: ExpressibleByArgument {}
