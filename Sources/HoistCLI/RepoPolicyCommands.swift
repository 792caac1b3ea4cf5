import ArgumentParser
import Hoist

/// `hoist repo policy set|get|delete`: who may use an ECR repository.
struct RepoPolicyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy", abstract: "Set, show or delete an ECR repository policy.",
    discussion: "Example:\n  hoist repo policy get 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
    subcommands: [PolicySet<Access>.self, PolicyGet<Access>.self, PolicyDelete<Access>.self])
}

/// `hoist repo lifecycle set|get|delete`: which images an ECR repository expires.
struct RepoLifecycleCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lifecycle", abstract: "Set, show or delete an ECR repository's lifecycle policy.",
    discussion: """
      Example (keep the last 30 images tagged release-, expire untagged ones after 7 days):
        hoist repo lifecycle set 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app lifecycle.json
      """,
    subcommands: [PolicySet<Lifecycle>.self, PolicyGet<Lifecycle>.self, PolicyDelete<Lifecycle>.self])
}

/// The repository the examples name.
private let example = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"

/// Which of a repository's policies a command works on.
protocol PolicyKindChoice { static var kind: RepositoryPolicyKind { get } }
enum Access: PolicyKindChoice { static let kind = RepositoryPolicyKind.access }
enum Lifecycle: PolicyKindChoice { static let kind = RepositoryPolicyKind.lifecycle }

struct PolicySet<Kind: PolicyKindChoice>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "set", abstract: "Set the \(Kind.kind.noun) from a JSON file.",
      discussion:
        "Example:\n  \(Kind.kind.command) set \(example) \(Kind.kind == .access ? "policy" : "lifecycle").json")
  }
  @Argument(help: "REGISTRY/REPOSITORY") var repository: String
  @Argument(help: "The policy document (JSON).") var file: String
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await withECR(repository, connection, command: "\(Kind.kind.command) set") { api, name in
      try await Kind.kind.set(try Kind.kind.document(file: file), on: name, api)
      printError("The \(Kind.kind.noun) is set on \(name)")
    }
  }
}

struct PolicyGet<Kind: PolicyKindChoice>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "get", abstract: "Print the \(Kind.kind.noun).",
      discussion: "Example:\n  \(Kind.kind.command) get \(example)")
  }
  @Argument(help: "REGISTRY/REPOSITORY") var repository: String
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await withECR(repository, connection, command: "\(Kind.kind.command) get") { api, name in
      guard let policy = try await Kind.kind.get(name, api) else {
        throw ValidationError("repository \(name) has no \(Kind.kind.noun)")
      }
      print(policy)
    }
  }
}

struct PolicyDelete<Kind: PolicyKindChoice>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "delete", abstract: "Delete the \(Kind.kind.noun).",
      discussion: "Example:\n  \(Kind.kind.command) delete \(example)")
  }
  @Argument(help: "REGISTRY/REPOSITORY") var repository: String
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await withECR(repository, connection, command: "\(Kind.kind.command) delete") { api, name in
      try await Kind.kind.delete(name, api)
      printError("The \(Kind.kind.noun) is deleted from \(name)")
    }
  }
}
