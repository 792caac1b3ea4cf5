import ArgumentParser
import Foundation
import Hoist

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
    let interval = ProcessInfo.processInfo.environment["HOIST_PROGRESS_INTERVAL"].flatMap(Double.init) ?? 10
    return ProgressReporter(mode: mode, verb: verb, totalInterval: interval)
  }
}
