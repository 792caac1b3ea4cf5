import ArgumentParser
import Foundation
import Hoist
import OCI

#if canImport(Glibc)
  import Glibc
#endif

extension ProgressMode: ExpressibleByArgument {}

/// `--progress` and `--quiet`, for the commands that move blobs.
struct OutputOptions: ParsableArguments {
  @Option(help: "How to show progress on stderr: auto, tty, plain, json or none.")
  var progress: ProgressMode = .auto

  @Flag(name: .shortAndLong, help: "Print only the result lines.")
  var quiet = false

  /// A reporter for this command's blobs; `verb` is what they undergo (push, pull, copy).
  func reporter(verb: String) -> ProgressReporter {
    var mode = quiet ? .none : progress
    if mode == .auto { mode = isatty(STDERR_FILENO) != 0 ? .tty : .plain }
    return ProgressReporter(mode: mode, verb: verb, totalInterval: (try? Self.totalInterval()) ?? 10)
  }

  /// `HOIST_PROGRESS_INTERVAL`: seconds between the plain mode's total lines, 0.1 to 86400, default 10.
  static func totalInterval() throws -> Double {
    guard let text = ProcessInfo.processInfo.environment["HOIST_PROGRESS_INTERVAL"] else { return 10 }
    guard let seconds = Double(text), (0.1...86_400).contains(seconds) else {
      throw ValidationError(
        BadSetting(name: "HOIST_PROGRESS_INTERVAL", value: text, expected: "a number of seconds from 0.1 to 86400")
          .description)
    }
    return seconds
  }

  func validate() throws { _ = try Self.totalInterval() }
}
