import Archives
import ArgumentParser
import Foundation
import Hoist
import OCI
import Registry
import Streams
import Transfer

/// `hoist append BASE DEST --layer PATH...`: the image with new layers on top, made deterministically.
struct AppendCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "append",
    abstract: "Put layers made from folders or tars on top of an image, without a build.",
    discussion: """
      BASE and DEST are any places copy takes. Each --layer PATH[:DIR] is a folder (its contents go under DIR
      in the image, / by default) or a plain tar (taken as it is). A folder's layer is the same on every run and
      machine: entries in sorted order, owner 0:0 (or --owner), no time later than --created, SOURCE_DATE_EPOCH
      or, without either, 1970-01-01. The layer is gzip'd by hoist's compressor, its diffID and a history entry
      added to the config; BASE's layers are not sent again where DEST's registry has them. On an index, every
      platform gets the layers (or those --platform names). On success, stdout has DEST@sha256:<digest>.

      Example:
        hoist append registry.example.com/base:3 registry.example.com/app:1.4 --layer ./dist:/app
      """
  )

  @Argument(help: "The image to start from.") var base: String
  @Argument(help: "Where the image with the new layers goes.") var destination: String

  @Option(name: .long, help: "A folder or plain tar to add as a layer, PATH[:DIR] (repeatable, bottom first).")
  var layer: [String] = []
  @Option(name: .long, help: "The owner of a folder's files in the layer, UID:GID (default 0:0).")
  var owner: String?
  @Option(name: .long, help: "The latest time a file may have, and the history's time (RFC 3339).")
  var created: String?
  @Option(name: .long, help: "In an index, add to this platform only, os/arch[/variant] (repeatable).")
  var platform: [String] = []

  @Option(name: .long, help: "How many blobs to move at once.") var concurrency = 4

  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  /// The layers and image these flags ask for.
  func plan() throws -> AppendPlan {
    var plan = AppendPlan(
      base: try ImageLocation(parsing: base), destination: try ImageLocation(parsing: destination), layers: layer)
    (plan.owner, plan.created, plan.platforms, plan.concurrency) = (owner, created, platform, concurrency)
    try plan.validate()
    return plan
  }

  func validate() throws { try usage { _ = try plan() } }

  func run() async throws {
    try await reportingErrors {
      let plan = try plan()
      try await copyChanged(to: destination, hosts: [plan.base, plan.destination], connection, display) {
        try await plan.run(in: $0, progress: $1)
      }
    }
  }
}
