import Archives
import ArgumentParser
import Foundation
import Hoist

/// `hoist verify FILE...`: a bundle checked offline, before or after it crosses an air gap.
struct VerifyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check bundles offline: every blob against its digest, every manifest against what it names.",
    discussion: """
      FILE is an OCI layout (folder or tar) or a docker archive, as hoist pull --output or docker save write
      them. Every blob is read once and hashed; every index, manifest and referrer is parsed and each
      descriptor checked (present, size right); layers held uncompressed are checked against their config's
      diffIDs. No registry is asked. Each problem is a line on stderr naming the image and blob at fault;
      stdout has one summary line per file (or --json). The exit status is 0 only when every file is sound.
      A delta bundle (pull --since) is checked with the blobs it left out taken as held at its destination;
      --base names what it was made against, to check that it holds them.

      Example:
        hoist verify bundle.tar && sha256sum bundle.tar > bundle.tar.sha256
      """)

  @Argument(help: "The bundles to check.") var files: [String]
  @Flag(help: "Print JSON.") var json = false
  @Option(
    help:
      "For a delta bundle: the bundle (or inventory) it was made against, to check it holds what the delta left out.")
  var base: String?

  func validate() throws {
    if files.isEmpty { throw ValidationError("name at least one bundle to check") }
  }

  func run() async throws {
    var sound = true
    try await reportingErrors {
      var reports = [BundleReport]()
      let base = try base.map { try DeltaBase.held(at: $0).blobs }
      for file in files { reports.append(await BundleCheck.report(path: file, base: base, describe: oneLine)) }
      for report in reports {
        for note in report.notes { printError("\(report.path): note: \(note)") }
        for problem in report.problems {
          printError(problem.hasPrefix(report.path + ":") ? problem : "\(report.path): \(problem)")
        }
        if !json { print(report.summary) }
      }
      if json { printJSON(reports.map(\.object)) }
      sound = reports.allSatisfy(\.isSound)
    }
    if !sound { throw ExitStatus.failure }
  }
}
