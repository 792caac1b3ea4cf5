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

@Suite struct ScanTargetTests {
  func digest(_ byte: UInt8) -> Digest { Digest(sha256Bytes: [UInt8](repeating: byte, count: 32)) }

  func root(_ entries: [Descriptor]) -> RootDocument {
    let bytes = Index(mediaType: MediaType.ociIndex, manifests: entries).encoded()
    return RootDocument(
      descriptor: Descriptor(mediaType: MediaType.ociIndex, digest: digest(9), size: Int64(bytes.count)), bytes: bytes)
  }

  func image(_ byte: UInt8, _ platform: String) throws -> Descriptor {
    Descriptor(
      mediaType: MediaType.ociManifest, digest: digest(byte), size: 1, platform: try Platform(parsing: platform))
  }

  /// ECR scans images, not indexes: an index's one image (beside its SOCI index), or the one --platform names.
  @Test func anIndexIsScannedThroughItsImage() throws {
    var plan = ScanPlan(reference: try Reference(parsing: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"))
    let amd64 = try image(1, "linux/amd64")
    let soci = SociIndex.indexEntry(
      Descriptor(mediaType: MediaType.ociManifest, digest: digest(2), size: 1), image: amd64.digest,
      platform: amd64.platform)
    #expect("\(try plan.scanned(in: root([amd64, soci])))" == "@\(amd64.digest)")
    let both = root([amd64, try image(3, "linux/arm64")])
    #expect(throws: PlanError.self) { try plan.scanned(in: both) }
    plan.platform = try Platform(parsing: "linux/arm64")
    #expect("\(try plan.scanned(in: both))" == "@\(digest(3))")
    plan.platform = try Platform(parsing: "linux/s390x")
    #expect(throws: MissingPlatform.self) { try plan.scanned(in: both) }
    let manifest = Manifest(mediaType: MediaType.ociManifest, config: amd64, layers: []).encoded()
    #expect(
      "\(try plan.scanned(in: RootDocument(descriptor: amd64, bytes: manifest)))" == ":1")
  }
}
