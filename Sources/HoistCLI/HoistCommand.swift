import ArgumentParser
import CVersion

/// The `hoist` command line.
public struct HoistCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hoist",
    abstract: "Move container images between docker save tarballs, OCI layouts and registries, without a daemon.",
    discussion: """
      Exit status: 0 success, 1 failure, 64 usage error, 66 not found (file, image, repository, platform),
      77 authentication or permission refused.
      """,
    version: "hoist \(hoistVersion) (commit \(String(cString: hoist_commit())))",
    subcommands: [
      PushCommand.self, PullCommand.self, CopyCommand.self, LoginCommand.self, LogoutCommand.self, ECRCommand.self,
      RepoCommand.self,
      ImagesCommand.self, DeleteCommand.self, TagCommand.self, TagsCommand.self, InspectCommand.self,
      DigestCommand.self,
    ]
  )

  public init() {}

  /// The release this source tree is.
  static let hoistVersion = "0.1.0"

  /// Parses the process's arguments and runs the chosen command, exiting with its status.
  public static func runMain() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      exit(withError: error)
    }
  }
}
