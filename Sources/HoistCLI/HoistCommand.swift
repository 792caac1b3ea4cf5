import ArgumentParser
import CProcess
import Foundation

/// The `hoist` command line.
public struct HoistCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hoist",
    abstract: "Move container images between docker save tarballs, OCI layouts and registries, without a daemon.",
    discussion: """
      Example:
        hoist push app.tar registry.example.com/team/app:1.4 +latest

      Exit status: 0 success, 1 failure, 64 usage error, 66 not found (file, image, repository, platform),
      77 authentication or permission refused.
      """,
    version: "hoist \(hoistVersion) (commit \(String(cString: hoist_commit())))",
    subcommands: [
      PushCommand.self, PullCommand.self, CopyCommand.self, MutateCommand.self, AppendCommand.self, IndexCommand.self,
      SyncCommand.self, VerifyCommand.self, InventoryCommand.self, ReferrersCommand.self, AttachCommand.self,
      ScanCommand.self, SociCommand.self,
      LoginCommand.self,
      LogoutCommand.self,
      ECRCommand.self,
      RepoCommand.self,
      ImagesCommand.self, DeleteCommand.self, TagCommand.self, TagsCommand.self, InspectCommand.self,
      DigestCommand.self,
    ]
  )

  public init() {}

  /// The release this source tree is.
  static let hoistVersion = "0.1.0"

  /// Parses the process's arguments and runs the chosen command, exiting with its status. SIGINT and
  /// SIGTERM cancel the command, which then cancels its uploads and removes its temporary files; the exit
  /// status is then 130 or 143.
  public static func runMain() async {
    // One malloc arena: buffers that pass between threads (read on one, compressed on another, sent from
    // a third) are reused instead of piling up per thread. Cold push of the benchmark image: 8 MB less.
    hoist_use_one_malloc_arena()
    let command = Task {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    }
    let interruption = Interruption(cancelling: command)
    let result = await command.result
    if let signal = interruption.received { Foundation.exit(128 + signal) }
    if case .failure(let error) = result { exit(withError: error) }
  }
}
