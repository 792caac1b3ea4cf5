import ArgumentParser
import Foundation
import Hoist
import OCI
import Registry
import Streams

/// `hoist inspect REF`: a manifest, index or config, pretty or as served.
struct InspectCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect", abstract: "Show an image's manifest (for an index, its platforms) or config.",
    discussion: """
      Examples:
        hoist inspect registry.example.com/app:1.4
        hoist inspect registry.example.com/base:3 --platform linux/arm64 --config
        hoist inspect registry.example.com/app:1.4 --raw | sha256sum
      """)

  @Argument(help: "The image reference.") var reference: String
  @Flag(help: "Show the config instead of the manifest.") var config = false
  @Flag(help: "Print the bytes exactly as the registry serves them.") var raw = false
  @Option(help: "From an index, the platform to show (os/arch[/variant]).") var platform: String?
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let parsed = try ImageLocation.registryReference(reference)
      let bytes = try await connection.withConnection(hosts: [parsed.registry]) {
        try await $0.inspected(parsed, platform: platform, config: config)
      }
      if raw {
        try? FileHandle.standardOutput.write(contentsOf: bytes)
      } else {
        print(try prettyJSON(bytes))
      }
    }
  }
}

/// `hoist digest REF`: the digest of the manifest a reference names.
struct DigestCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "digest", abstract: "Print the digest of the manifest or index a reference names.",
    discussion: "Example:\n  hoist digest registry.example.com/app:1.4")

  @Argument(help: "The image reference.") var reference: String
  @Flag(help: "Print JSON.") var json = false
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let parsed = try ImageLocation.registryReference(reference)
      let root = try await connection.withConnection(hosts: [parsed.registry]) { connected in
        try await connected.registrySource(parsed, platform: nil, wholeIndex: true).root()
      }
      if json {
        printJSON([
          [
            "reference": parsed.description, "digest": root.descriptor.digest.description,
            "mediaType": root.descriptor.mediaType,
          ]
        ])
      } else {
        print(root.descriptor.digest)
      }
    }
  }
}

/// `hoist tag REF TAG...`: puts the same manifest under more tags; no blob moves.
struct TagCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tag", abstract: "Add tags to an image in its registry (works for indexes too).",
    discussion: "Example:\n  hoist tag registry.example.com/app:1.4 1.4.1 stable")

  @Argument(help: "The image reference.") var reference: String
  @Argument(help: "The new tags.") var tags: [String]
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    guard !tags.isEmpty else { throw ValidationError("name at least one new tag") }
    for tag in tags where !Reference.isValidTag(tag) { throw ValidationError("\(tag) is not a valid tag") }
  }

  func run() async throws {
    try await reportingErrors {
      let parsed = try ImageLocation.registryReference(reference)
      let digest = try await connection.withConnection(hosts: [parsed.registry]) { connected in
        let client = try connected.client(for: parsed.registry, endpoint: parsed.endpointHost)
        let name = parsed.manifestReference
        return try await client.tag(repository: parsed.repository, reference: name, as: tags)
      }
      for tag in tags { print("\(parsed.with(tag: tag))@\(digest)") }
    }
  }
}

/// `hoist tags REPO`: the tags of a repository.
struct TagsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tags", abstract: "List the tags of a repository.",
    discussion: "Example:\n  hoist tags registry.example.com/app --json")

  @Argument(help: "REGISTRY/REPOSITORY") var repository: String
  @Flag(help: "Print JSON.") var json = false
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let parsed = try Reference(parsing: repository)
      let tags = try await connection.withConnection(hosts: [parsed.registry]) { connected in
        try await connected.client(for: parsed.registry, endpoint: parsed.endpointHost).tags(
          repository: parsed.repository)
      }
      if json {
        printJSON(tags)
      } else {
        for tag in tags { print(tag) }
      }
    }
  }
}

/// `hoist ratelimit REF`: the pull limit a registry states, read from a HEAD of the manifest.
struct RateLimitCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ratelimit", abstract: "Print the pull rate limit a registry states for a reference.",
    discussion: """
      Reads RateLimit-Limit, RateLimit-Remaining (Docker Hub's N;w=SECONDS form or the IETF draft's),
      RateLimit-Reset and Docker-RateLimit-Source from a HEAD of the manifest, which Docker Hub does not count.

      Example:
        hoist ratelimit docker.io/library/alpine:3
      """)

  @Argument(help: "The image reference.") var reference: String
  @Flag(help: "Print JSON.") var json = false
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let parsed = try ImageLocation.registryReference(reference)
      let limit = try await connection.withConnection(hosts: [parsed.registry]) { connected in
        try await connected.client(for: parsed).rateLimit(
          repository: parsed.repository, reference: parsed.manifestReference)
      }
      if json {
        print(try JSONText.pretty(encoding: RateLimitAnswer(reference: parsed.description, rateLimit: limit)))
      } else {
        print("\(parsed.description): \(limit?.summary ?? "no rate limit stated")")
      }
    }
  }

  /// The JSON `--json` prints; `rateLimit` is null when the registry states none.
  struct RateLimitAnswer: Encodable {
    var reference: String
    var rateLimit: RateLimit?

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(reference, forKey: .reference)
      try container.encode(rateLimit, forKey: .rateLimit)
    }

    enum CodingKeys: String, CodingKey { case reference, rateLimit }
  }
}
