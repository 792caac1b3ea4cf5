import AWS
import ArgumentParser
import ECR
import Foundation
import Hoist
import OCI
import Registry

/// `hoist repo …`: repositories and their policies (Amazon ECR; `list` works with any registry).
struct RepoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repo", abstract: "Manage repositories, their access and lifecycle policies.",
    discussion: "Example:\n  hoist repo create 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app --immutable-tags",
    subcommands: [Create.self, List.self, Delete.self, RepoPolicyCommand.self, RepoLifecycleCommand.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create an ECR repository.",
      discussion:
        "Example:\n  hoist repo create 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app --immutable-tags --scan-on-push"
        + " --lifecycle-policy lifecycle.json"
    )
    @Argument(help: "REGISTRY/REPOSITORY") var repository: String
    @Flag(help: "Tags cannot be overwritten.") var immutableTags = false
    @Flag(help: "Scan images when they are pushed.") var scanOnPush = false
    @Option(name: .long, help: "A lifecycle policy (JSON) to set on the new repository.") var lifecyclePolicy: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
      try await withECR(repository, connection, command: "hoist repo create") { api, name in
        let policy = try lifecyclePolicy.map { try RepositoryPolicyKind.lifecycle.document(file: $0) }
        let created = try await api.createRepository(name, immutableTags: immutableTags, scanOnPush: scanOnPush)
        if let policy { try await RepositoryPolicyKind.lifecycle.set(policy, on: name, api) }
        print(created.uri.isEmpty ? name : created.uri)
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List repositories (ECR API, or /v2/_catalog elsewhere).",
      discussion: "Example:\n  hoist repo list 123456789012.dkr.ecr.eu-west-1.amazonaws.com --json")
    @Argument(help: "The registry host.") var registry: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
      try await reportingErrors {
        let host = Session.registryHost(registry)
        let repositories = try await connection.withConnection(hosts: [host]) { try await $0.repositories(of: host) }
        let rows: [[String: Any]] = repositories.map { repository in
          var row: [String: Any] = ["name": repository.name]
          if let uri = repository.uri { row["uri"] = uri }
          if let immutable = repository.immutableTags { row["immutableTags"] = immutable }
          if let scan = repository.scanOnPush { row["scanOnPush"] = scan }
          return row
        }
        printRows(rows, json: json, columns: ["name"])
      }
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete an ECR repository.",
      discussion: "Example:\n  hoist repo delete 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app --force")
    @Argument(help: "REGISTRY/REPOSITORY") var repository: String
    @Flag(help: "Delete it even if it still holds images.") var force = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
      try await withECR(repository, connection, command: "hoist repo delete") { api, name in
        try await api.deleteRepository(name, force: force)
        printError("Deleted repository \(name)")
      }
    }
  }
}

/// `hoist images REGISTRY/REPOSITORY`: what an ECR repository holds.
struct ImagesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "images", abstract: "List the images in an ECR repository.",
    discussion: "Example:\n  hoist images 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app --json")
  @Argument(help: "REGISTRY/REPOSITORY") var repository: String
  @Flag(help: "Print JSON.") var json = false
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await withECR(repository, connection, command: "hoist images") { api, name in
      let formatter = ISO8601DateFormatter()
      let rows: [[String: Any]] = try await api.describeImages(name).map {
        [
          "digest": $0.digest, "tags": $0.tags.joined(separator: ","), "size": $0.sizeInBytes,
          "pushedAt": $0.pushedAt.map(formatter.string(from:)) ?? "",
        ]
      }
      printRows(rows, json: json, columns: ["digest", "tags", "size", "pushedAt"])
    }
  }
}

/// `hoist delete REF`: deletes an image (ECR: BatchDeleteImage; elsewhere: the manifest).
struct DeleteCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete", abstract: "Delete an image by tag or digest.",
    discussion: "Example:\n  hoist delete 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:old")
  @Argument(help: "REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@DIGEST") var reference: String
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let parsed = try Reference(parsing: reference)
      try await connection.withConnection(hosts: [parsed.registry]) { try await $0.deleteImage(parsed) }
      printError("Deleted \(reference)")
    }
  }
}

/// Runs an ECR-only command body with the API for `text`'s registry and the repository name.
func withECR(
  _ text: String, _ connection: ConnectionOptions, command: String,
  _ body: (ECRClient, String) async throws -> Void
) async throws {
  try await reportingErrors {
    let reference = try Reference(parsing: text)
    try await connection.withConnection(hosts: [reference.registry]) {
      try await body(try await $0.ecrAPI(for: reference.registry, command: command), reference.repository)
    }
  }
}

/// Prints rows as JSON (an array of objects) or as tab-separated columns.
func printRows(_ rows: [[String: Any]], json: Bool, columns: [String]) {
  if json { return printJSON(rows) }
  for row in rows { print(columns.map { row[$0].map { "\($0)" } ?? "" }.joined(separator: "\t")) }
}
