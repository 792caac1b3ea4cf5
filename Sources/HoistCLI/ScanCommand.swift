import AWS
import ArgumentParser
import Foundation
import Hoist
import OCI

/// `hoist scan REF`: ECR's vulnerability scan of an image, as a gate for CI.
struct ScanCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Show ECR's vulnerability scan of an image, wait for it, and fail on findings at a severity.",
    discussion: """
      Reads the scan ECR made of the image (basic scanning, or enhanced scanning through Amazon Inspector);
      an image never scanned (its repository does not scan on push) gets a basic scan started. With --wait,
      a scan in progress is looked at again (after 5 s, then half as long again each time, up to 30 s) until
      it is complete or --timeout passes. Prints the counts by severity and the worst findings (all of them
      with --json). With --fail-on LEVEL (critical, high, medium, low, informational), findings at or above
      it end the run with exit status 3; a scan that is not complete or failed ends it with 1. ECR scans
      images, not indexes: a tag naming an index scans its image of --platform, or its only image (an image
      pushed with --soci, whose SOCI index sits beside it).

      Example:
        hoist push app.tar 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4 --soci
        hoist scan 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4 --wait --fail-on critical
      """)

  @Argument(help: "The image: an ECR repository with a tag or digest.") var reference: String
  @Flag(name: .long, help: "Wait until the scan is complete.") var wait = false
  @Option(name: .long, help: "How long to wait, e.g. 10m or 90s.") var timeout = Seconds(seconds: 600)
  @Option(name: .long, help: "Fail (exit 3) on findings at or above: critical, high, medium, low, informational.")
  var failOn: Severity?
  @Flag(name: .long, help: "Print the whole report as JSON.") var json = false
  @Option(name: .long, help: "How many of the worst findings to print.") var top = 10
  @Option(name: .long, help: "The image to scan when the tag names an index of several, os/arch[/variant].")
  var platform: String?
  @OptionGroup var connection: ConnectionOptions

  /// The scan these flags ask for.
  func plan() throws -> ScanPlan {
    var plan = ScanPlan(reference: try Reference(parsing: reference))
    (plan.wait, plan.timeout, plan.failOn) = (wait, timeout.seconds, failOn)
    plan.platform = try platform.map { try Platform(parsing: $0) }
    try plan.validate()
    return plan
  }

  func validate() throws {
    guard top >= 0 else { throw ValidationError("--top: \(top) is not a count of findings (0 or more)") }
    try usage { _ = try plan() }
  }

  func run() async throws {
    var failing = 0
    try await reportingErrors {
      let plan = try plan()
      let report = try await connection.withConnection(hosts: [plan.reference.registry]) { session in
        try await plan.run(in: session) { printError("scan: \($0)") }
      }
      show(report)
      failing = plan.failing(report)
      if let failOn, failing > 0 { printError("scan: \(failing) finding(s) at or above \(failOn.rawValue)") }
    }
    if failing > 0 { throw ExitCode(3) }
  }

  func show(_ report: ScanReport) {
    if json, let text = try? JSONText.pretty(encoding: report) { return print(text) }
    print("\(report.image)\(report.digest.map { "@\($0)" } ?? ""): \(report.status), \(report.summary)")
    for finding in report.findings.prefix(top) {
      print([finding.severity, finding.name, finding.package ?? "", finding.uri ?? ""].joined(separator: "\t"))
    }
    if report.findings.count > top { print("… and \(report.findings.count - top) more (--json lists them all)") }
  }
}

extension Severity: ExpressibleByArgument {
  public init?(argument: String) { self.init(flag: argument) }
}

/// A span of time as a flag gives it: `90`, `90s`, `10m`, `1h`.
struct Seconds: ExpressibleByArgument {
  var seconds: Double

  init(seconds: Double) { self.seconds = seconds }

  /// The longest wait accepted: a day.
  static let longest = 86_400.0

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
    let scales: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    let (suffix, scale) = scales.first { text.hasSuffix($0.0) && Double(text.dropLast($0.0.count)) != nil } ?? ("", 1)
    guard let value = Double(text.dropLast(suffix.count)), value >= 0, value * scale <= Self.longest else { return nil }
    seconds = value * scale
  }
}
