import AWS
import Testing

/// ECR's scan answers, basic and enhanced, as hoist reads them.
@Suite struct ScanFindingsTests {
  @Test func aBasicScanGivesItsStatusCountsAndPackages() async throws {
    let answer = #"""
      {"imageId":{"imageDigest":"sha256:abc","imageTag":"1"},
       "imageScanStatus":{"status":"COMPLETE","description":"done"},
       "imageScanFindings":{"findingSeverityCounts":{"HIGH":1,"LOW":2},
         "findings":[{"name":"CVE-2024-1","severity":"HIGH","uri":"https://cve/1",
           "attributes":[{"key":"package_name","value":"openssl"},{"key":"package_version","value":"3.0.1"}]}]},
       "nextToken":"page-2"}
      """#
    let api = try ecrClient(ScriptedSender([.answer(200, answer)]), retries: 0)
    let page = try #require(try await api.imageScanFindings("app", image: .tag("1")))
    #expect(page.status == "COMPLETE" && page.digest == "sha256:abc" && page.nextToken == "page-2")
    #expect(page.counts == ["HIGH": 1, "LOW": 2])
    #expect(
      page.findings == [
        ECRClient.Finding(name: "CVE-2024-1", severity: "HIGH", package: "openssl 3.0.1", uri: "https://cve/1")
      ])
  }

  @Test func anEnhancedScanNamesTheVulnerabilityAndItsPackage() async throws {
    let answer = #"""
      {"imageScanStatus":{"status":"ACTIVE"},
       "imageScanFindings":{"enhancedFindings":[{"severity":"CRITICAL","title":"CVE-2024-9 - glibc",
         "packageVulnerabilityDetails":{"vulnerabilityId":"CVE-2024-9","sourceUrl":"https://nvd/9",
           "vulnerablePackages":[{"name":"glibc","version":"2.36"}]}}]}}
      """#
    let api = try ecrClient(ScriptedSender([.answer(200, answer)]), retries: 0)
    let page = try #require(try await api.imageScanFindings("app", image: .digest("sha256:abc")))
    #expect(page.status == "ACTIVE" && page.counts.isEmpty)
    #expect(
      page.findings == [
        ECRClient.Finding(name: "CVE-2024-9", severity: "CRITICAL", package: "glibc 2.36", uri: "https://nvd/9")
      ]
    )
  }

  @Test func anImageNeverScannedIsNoErrorAndAScanStartedTodayIsNone() async throws {
    let notFound = #"{"__type":"ScanNotFoundException","message":"no scan"}"#
    let limit = #"{"__type":"LimitExceededException","message":"once a day"}"#
    let api = try ecrClient(ScriptedSender([.answer(400, notFound), .answer(400, limit)]), retries: 0)
    #expect(try await api.imageScanFindings("app", image: .tag("1")) == nil)
    try await api.startImageScan("app", image: .tag("1"))
  }
}
