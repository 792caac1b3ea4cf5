import Archives
import ArgumentParser
import Foundation
import Hoist
import OCI
import Registry
import Transfer

/// `hoist attach REF FILE...`: an OCI 1.1 artifact referring to an image.
struct AttachCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attach",
    abstract: "Attach files (an SBOM, a signature, a report) to an image as an OCI 1.1 artifact.",
    discussion: """
      Pushes a manifest with the given artifact type, the empty config, one layer per file and the image as
      its subject, beside the image in its repository, and prints REPO@sha256:<digest> of that manifest. A
      registry without the referrers API gets it listed in the sha256-<hex> tag's index as well. FILE:TYPE
      gives a file's media type (default: the artifact type). The manifest is annotated with its creation
      time unless --annotation sets org.opencontainers.image.created.

      Examples:
        hoist attach registry.example.com/app:1.4 sbom.spdx.json --artifact-type application/spdx+json
        hoist attach registry.example.com/app:1.4 scan.json:application/json --artifact-type application/vnd.example.scan+json --annotation scanner=trivy
      """)

  @Argument(help: "The image to attach to (a tag names what it holds now: the index of a multi-platform image).")
  var reference: String

  @Argument(help: "The files, as FILE or FILE:MEDIATYPE.") var files: [String]

  @Option(name: .long, help: "The artifact type, e.g. application/spdx+json.") var artifactType: String

  @Option(name: .long, help: "An annotation on the artifact's manifest, KEY=VALUE (repeatable).")
  var annotation: [String] = []

  @Option(name: .long, help: "How many blobs to move at once.") var concurrency = 4

  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The artifact these flags ask for.
  func plan() throws -> AttachPlan {
    var plan = AttachPlan(
      subject: try ImageLocation.registryReference(reference), files: files, artifactType: artifactType)
    (plan.annotations, plan.concurrency) = (annotation, concurrency)
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors {
      let plan = try plan()
      let reporter = display.reporter(verb: "push")
      defer { reporter.finish() }
      let stored = try await connection.withConnection(hosts: [plan.subject.registry]) {
        try await plan.run(in: $0, progress: reporter.report)
      }
      reporter.finish()
      print("\(plan.subject.with(tag: nil))@\(stored.digest)")
    }
  }
}
