import Archives
import ArgumentParser
import Foundation
import Hoist

/// `hoist inventory REGISTRY[/PREFIX] --output FILE`: what a registry holds, for a delta to leave out.
struct InventoryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inventory",
    abstract: "List the blobs a registry's tagged images hold, for pull --since on the other side of a gap.",
    discussion: """
      Every tag of every repository under PREFIX (all, without one) is read, indexes followed, and the
      blobs they name are written to FILE as JSON. Carried back across the gap, FILE tells pull --since what
      the isolated registry has, where the bundles pushed there are not kept.

      Example:
        hoist inventory registry.internal:5000/mirror --output have.json
      """)

  @Argument(help: "The registry, and optionally a repository prefix: HOST[/PREFIX].") var location: String
  @Option(name: .long, help: "The JSON file to write.") var output: String
  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let plan = InventoryPlan(location: location)
      let inventory = try await connection.withConnection(hosts: [plan.registry]) { try await plan.run(in: $0) }
      try writeAtomically(try JSONText.pretty(encoding: inventory) + "\n", to: output)
      printError("\(inventory.blobs.count) blobs listed in \(output)")
    }
  }
}
