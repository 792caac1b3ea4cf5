import ArgumentParser
import Foundation
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

  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    for (option, items) in [("--label", label), ("--env", env), ("--annotation", annotation)] {
      try validateKeyValues(items, option: option)
    }
    try validateTime(created)
    if expose.contains(where: { Self.port($0) == nil }) { throw ValidationError("--expose takes PORT[/tcp|/udp]") }
  }

  /// `80`, `80/tcp` or `53/udp`, written as configs hold it.
  static func port(_ text: String) -> String? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard let number = Int(parts[0]), (1...65535).contains(number), parts.count <= 2 else { return nil }
    let proto = parts.count == 2 ? String(parts[1]) : "tcp"
    return ["tcp", "udp", "sctp"].contains(proto) ? "\(number)/\(proto)" : nil
  }

  /// A JSON array of strings, or comma-separated words.
  static func list(_ text: String) throws -> [String] {
    if text.hasPrefix("[") {
      guard let items = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
        throw ValidationError("\(text): not a JSON array of strings")
      }
      return items
    }
    return text.split(separator: ",").map(String.init)
  }

  func run() async throws {
    try await reportingErrors {
      var edit = ConfigEdit()
      edit.labels = keyValuePairs(label)
      edit.environment = env
      edit.entrypoint = try entrypoint.map(Self.list)
      edit.command = try cmd.map(Self.list)
      edit.user = user
      edit.workingDirectory = workdir
      edit.exposedPorts = expose.compactMap(Self.port)
      edit.created = created
      let platforms = try platform.map { try Platform(parsing: $0) }
      let annotations = keyValuePairs(annotation)
      try await copyChanged(from: source, to: destination, connection: connection, display: display) {
        try await MutatedImage.make($0, edit: edit, annotations: annotations, platforms: platforms)
      }
    }
  }
}

/// Copies the image at `source`, as `change` makes it of the image as it is, to `destination`, and prints
/// `DESTINATION@sha256:…` (`mutate`, `append`).
func copyChanged(
  from source: String, to destination: String, connection: ConnectionOptions, display: OutputOptions,
  _ change: (any ImageSource) async throws -> MutatedImage
) async throws {
  let from = try ImageLocation(parsing: source)
  let to = try ImageLocation(parsing: destination)
  let reporter = display.reporter(verb: "copy")
  defer { reporter.finish() }
  let hosts = [from.registryHost, to.registryHost].compactMap { $0 }
  let stored = try await connection.withConnection(hosts: hosts) { connected in
    let image = try await change(try connected.source(from, platform: .all))
    let engine = CopyEngine(
      options: connection.copyOptions(concurrency: 4), cache: connection.blobInfoCache(), progress: reporter.report)
    return try await engine.run([ImageCopy(source: { image }, targets: [try connected.target(to, naming: from)])])[0]
  }
  reporter.finish()
  print("\(destination)@\(stored.digest)")
}
