import ArgumentParser
import Foundation
import Hoist
import OCI
import Registry
import Transfer

/// `hoist index`: multi-platform indexes made of single images.
struct IndexCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index", abstract: "Make multi-platform indexes.", subcommands: [IndexCreateCommand.self])
}

/// `hoist index create DEST SOURCE...`: one index over per-platform images, pushed under DEST.
struct IndexCreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Push an index of several images (one per platform) under a tag.",
    discussion: """
      DEST is the registry reference the index goes to; each SOURCE is a registry reference or a file hoist
      reads (oci:PATH, docker-archive:PATH, a path starting with /, ./ or ../). A source that is itself an
      index brings all its entries. Each entry keeps its platform, or gets the one its config names; two
      entries for one platform are an error. The images' blobs and manifests are copied (or mounted) to
      DEST's repository first, keeping their digests. +TAG adds a tag in DEST's repository, --tag another
      destination. On success, stdout has DEST@sha256:<index digest> for each destination.

      Example (CI built each architecture on its own runner):
        hoist index create 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4 \\
          123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4-amd64 \\
          123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4-arm64 +latest
      """
  )

  @Argument(help: "The destination, then the images (and +TAG for more tags of the destination).")
  var arguments: [String] = []

  @Option(name: [.customShort("t"), .customLong("tag")], help: "Another destination for the index.")
  var also: [String] = []

  @Option(name: .long, help: "An annotation of the index, KEY=VALUE (repeatable).")
  var annotation: [String] = []

  @Option(name: .long, help: "oci (an OCI image index, the default) or docker (a Docker manifest list).")
  var format: ManifestFormat = .oci

  @Option(name: .long, help: "How many blobs to move at once.")
  var concurrency = 4

  @OptionGroup var sociOptions: SociOptions
  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The index these flags ask for.
  func plan() throws -> IndexPlan {
    var plan = try IndexPlan(arguments: arguments, also: also)
    (plan.format, plan.annotations, plan.concurrency) = (format, annotation, concurrency)
    plan.soci = sociOptions.settings
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors {
      let plan = try plan()
      let reporter = display.reporter(verb: "copy")
      defer { reporter.finish() }
      let stored = try await connection.withConnection(hosts: try plan.hosts()) {
        try await plan.run(in: $0, progress: reporter.report)
      }
      reporter.finish()
      for (text, digest) in stored { print("\(text)@\(digest)") }
    }
  }
}
