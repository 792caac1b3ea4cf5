import ArgumentParser
import Foundation
import Hoist
import OCI
import Registry
import Transfer

/// `hoist mutate SRC DST`: the image with its config or annotations changed, layers untouched.
struct MutateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mutate",
    abstract: "Change an image's labels, environment, entrypoint and other settings without rebuilding it.",
    discussion: """
      SRC and DST are any places copy takes (registry references, oci:, docker-archive:, dir:, paths). The
      config is rewritten, and the manifest names the new config; layers are not touched, so a destination
      that has them (or can mount them from SRC's repository) receives none. On an index, every platform is
      changed (or those --platform names) and a new index written. On success, stdout has DST@sha256:<digest>.
      Lists (--entrypoint, --cmd) are JSON arrays or comma-separated words.

      Example:
        hoist mutate registry.example.com/app:1.4 registry.example.com/app:1.4-patched \\
          --label org.opencontainers.image.revision=$GITHUB_SHA --env TZ=UTC --user 1000 --workdir /app
      """
  )

  @Argument(help: "Where the image is.") var source: String
  @Argument(help: "Where the changed image goes.") var destination: String

  @Option(name: .long, help: "A label, KEY=VALUE (repeatable).") var label: [String] = []
  @Option(name: .long, help: "An environment variable, NAME=VALUE (repeatable; replaces one set).")
  var env: [String] = []
  @Option(name: .long, help: "The entrypoint: a JSON array, or comma-separated words.") var entrypoint: String?
  @Option(name: .long, help: "The command: a JSON array, or comma-separated words.") var cmd: String?
  @Option(name: .long, help: "The user (name or UID[:GID]).") var user: String?
  @Option(name: .long, help: "The working directory.") var workdir: String?
  @Option(name: .long, help: "A port to expose, PORT[/tcp|/udp] (repeatable).") var expose: [String] = []
  @Option(name: .long, help: "An annotation of the manifest (and index), KEY=VALUE (repeatable; OCI only).")
  var annotation: [String] = []
  @Option(name: .long, help: "The creation time of the image and its history, RFC 3339 (e.g. 2024-01-01T00:00:00Z).")
  var created: String?
  @Option(name: .long, help: "In an index, change only this platform, os/arch[/variant] (repeatable).")
  var platform: [String] = []

  @Option(name: .long, help: "How many blobs to move at once.") var concurrency = 4

  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The change these flags ask for.
  func plan() throws -> MutatePlan {
    var plan = MutatePlan(
      source: try ImageLocation(parsing: source), destination: try ImageLocation(parsing: destination))
    (plan.labels, plan.environment, plan.annotations) = (label, env, annotation)
    (plan.entrypoint, plan.command, plan.user, plan.workingDirectory) = (entrypoint, cmd, user, workdir)
    (plan.exposedPorts, plan.created, plan.platforms, plan.concurrency) = (expose, created, platform, concurrency)
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors {
      let plan = try plan()
      try await copyChanged(to: destination, hosts: [plan.source, plan.destination], connection, display) {
        try await plan.run(in: $0, progress: $1)
      }
    }
  }
}

/// Runs a changed copy (`mutate`, `append`) with progress, and prints `DESTINATION@sha256:…`.
func copyChanged(
  to destination: String, hosts locations: [ImageLocation], _ connection: ConnectionOptions,
  _ display: OutputOptions,
  _ run: (Session, @escaping @Sendable (ProgressEvent) -> Void) async throws -> Descriptor
) async throws {
  let reporter = display.reporter(verb: "copy")
  defer { reporter.finish() }
  let stored = try await connection.withConnection(hosts: locations.compactMap(\.registryHost)) {
    try await run($0, reporter.report)
  }
  reporter.finish()
  print("\(destination)@\(stored.digest)")
}
