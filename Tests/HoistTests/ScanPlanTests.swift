import AWS
import OCI
import Testing

@testable import Hoist

@Suite struct ScanPlanTests {
  func plan(_ text: String = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1") throws -> ScanPlan {
    ScanPlan(reference: try Reference(parsing: text))
  }

  @Test func onlyAnECRImageCanBeScanned() throws {
    expectRefusal("hoist scan reads Amazon ECR's image scans; registry.example.com is not an ECR registry") {
      try plan("registry.example.com/app:1").validate()
    }
    try plan().validate()
    #expect("\(try plan().image)" == ":1")
    #expect("\(try plan("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app").image)" == ":latest")
  }

  @Test func aScanInProgressIsLookedAtLessOftenUntilTheTimeoutIsSpent() throws {
    var plan = try plan()
    plan.timeout = 100
    let waits = plan.polls()
    #expect(waits.prefix(4) == [5, 7.5, 11.25, 16.875])
    #expect(waits.allSatisfy { $0 <= 30 } && abs(waits.reduce(0, +) - 100) < 0.001)
    #expect(ScanPlan.stage(of: "IN_PROGRESS") == .inProgress && ScanPlan.stage(of: "PENDING") == .inProgress)
    #expect(ScanPlan.stage(of: "COMPLETE") == .complete && ScanPlan.stage(of: "ACTIVE") == .complete)
    #expect(ScanPlan.stage(of: "UNSUPPORTED_IMAGE") == .failed && ScanPlan.stage(of: "FAILED") == .failed)
  }

  @Test func theGateCountsFindingsAtOrAboveTheLevelAndListsTheWorstFirst() {
    let report = ScanReport(
      image: "app:1", digest: nil, status: "COMPLETE", counts: [:],
      findings: [
        .init(name: "CVE-2", severity: "LOW"), .init(name: "CVE-3", severity: "CRITICAL"),
        .init(name: "CVE-1", severity: "HIGH"), .init(name: "CVE-0", severity: "HIGH"),
      ])
    #expect(report.findings.map(\.name) == ["CVE-3", "CVE-0", "CVE-1", "CVE-2"])
    #expect(report.summary == "CRITICAL 1, HIGH 2, LOW 1")
    #expect(report.findings(atOrAbove: .critical) == 1)
    #expect(report.findings(atOrAbove: .high) == 3)
    #expect(report.findings(atOrAbove: .informational) == 4)
    #expect(Severity(flag: "high") == .high && Severity(flag: "severe") == nil)
    let clean = ScanReport(image: "app:1", digest: nil, status: "COMPLETE", counts: [:], findings: [])
    #expect(clean.summary == "no findings" && clean.findings(atOrAbove: .low) == 0)
  }
}
