import ArgumentParser
import CProcess
import Foundation
import Hoist

/// The `hoist` command line.
public struct HoistCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hoist",
    abstract: "Move container images between docker save tarballs, OCI layouts and registries, without a daemon.",
    discussion: """
      Example:
        hoist push app.tar registry.example.com/team/app:1.4 +latest

      Exit status: 0 success, 1 failure, 3 a gate refused (scan --fail-on), 64 usage error (a flag, an argument, \
      a setting: HOIST_* and AWS_* variables, config files), 66 not found (file, image, repository, platform), \
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
      DigestCommand.self, RateLimitCommand.self,
    ]
  )

  public init() {}

  /// The release this source tree is.
  static let hoistVersion = "0.1.0"

  /// Parses the process's arguments and runs the chosen command, exiting with its status. SIGINT and
  /// SIGTERM cancel the command, which then cancels its uploads and removes its temporary files; the exit
  /// status is then 130 or 143. A pipe closed under hoist is an error where it writes, not a SIGPIPE.
  public static func runMain() async {
    // One malloc arena: buffers that pass between threads (read on one, compressed on another, sent from
    // a third) are reused instead of piling up per thread. Cold push of the benchmark image: 8 MB less.
    hoist_use_one_malloc_arena()
    signal(SIGPIPE, SIG_IGN)
    let parsed: any ParsableCommand
    do {
      parsed = try parseAsRoot()
    } catch {
      finish(after: error, parsing: true)
    }
    let command = Task {
      var command = parsed
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    }
    let interruption = Interruption(cancelling: command)
    let result = await command.result
    if let signal = interruption.received { Foundation.exit(128 + signal) }
    if case .failure(let error) = result { finish(after: error, parsing: false) }
  }

  /// Ends the process after `error`. Help and version as the parser prints them; an error in the flags,
  /// the arguments or their checks (any error while `parsing`) as one line, `hoist: error: …`, with status
  /// 64; any other error a command let through as one line with the status of its category.
  static func finish(after error: any Error, parsing: Bool) -> Never {
    if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
    let parserStatus = Self.exitCode(for: error)
    if parserStatus == .success { exit(withError: error) }
    if parsing || parserStatus == .validationFailure {
      let message = Self.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init)
      printError("hoist: error: \(message ?? oneLine(error))")
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
    printError("hoist: error: \(oneLine(error))")
    Foundation.exit(HoistCLI.exitCode(for: error).rawValue)
  }
}
