import Archives
import ArgumentParser
import Foundation
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

  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  static let created = "org.opencontainers.image.created"

  func validate() throws {
    if files.isEmpty { throw ValidationError("name at least one file to attach") }
    if !artifactType.contains("/") { throw ValidationError("--artifact-type \(artifactType): not a media type") }
    try validateKeyValues(annotation, option: "--annotation")
  }

  /// A file argument split into its path and media type.
  func file(_ item: String) -> ArtifactSource.File {
    if let colon = item.lastIndex(of: ":"), item[item.index(after: colon)...].contains("/") {
      return ArtifactSource.File(path: String(item[..<colon]), mediaType: String(item[item.index(after: colon)...]))
    }
    return ArtifactSource.File(path: item, mediaType: artifactType)
  }

  func run() async throws {
    try await reportingErrors {
      let parsed = try ImageLocation.registryReference(reference)
      var annotations = keyValuePairs(annotation)
      if annotations[Self.created] == nil {
        annotations[Self.created] = ISO8601DateFormatter().string(from: Date())
      }
      let reporter = display.reporter(verb: "push")
      defer { reporter.finish() }
      let stored = try await connection.withConnection(hosts: [parsed.registry]) { connected in
        let subject = try await connected.registrySource(parsed, platform: nil, wholeIndex: true).root().descriptor
        let artifact = try ArtifactSource.make(
          files: files.map(file), artifactType: artifactType, subject: subject, annotations: annotations)
        let client = try connected.client(for: parsed.registry, endpoint: parsed.endpointHost)
        let destination = RegistryDestination(
          client: client, repository: parsed.repository, chunkSize: RegistryDestination.defaultChunkSize)
        let engine = CopyEngine(
          options: connection.copyOptions(concurrency: 4), cache: connection.blobInfoCache(), progress: reporter.report)
        return try await engine.run([
          ImageCopy(source: { artifact }, targets: [CopyTarget(destination: destination, tags: [])])
        ])[0]
      }
      reporter.finish()
      print("\(parsed.with(tag: nil))@\(stored.digest)")
    }
  }
}
