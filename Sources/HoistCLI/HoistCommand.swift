import ArgumentParser

/// The `hoist` command line.
public struct HoistCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hoist",
    abstract: "Move container images between docker save tarballs, OCI layouts and registries, without a daemon.",
    subcommands: [
      PushCommand.self, PullCommand.self, CopyCommand.self, LoginCommand.self, LogoutCommand.self, ECRCommand.self,
      RepoCommand.self,
      ImagesCommand.self, DeleteCommand.self,
    ]
  )

  public init() {}

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
