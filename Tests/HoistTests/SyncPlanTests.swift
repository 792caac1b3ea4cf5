import Foundation
import Mirror
import OCI
import Testing

@testable import Hoist

@Suite struct SyncPlanTests {
  func shard(_ flag: String?, count: Int? = nil, _ environment: [String: String] = [:]) throws -> Shard? {
    try SyncPlan.shard(flag: flag, count: count, environment: environment)
  }

  @Test func theShardComesFromTheFlagElseFromAnIndexedJob() throws {
    #expect(try shard(nil) == nil)
    #expect(try shard("2/8") == Shard(index: 2, count: 8))
    #expect(try shard(nil, ["JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "4"]) == Shard(index: 3, count: 4))
    #expect(
      try shard(nil, count: 6, ["JOB_COMPLETION_INDEX": "5", "JOB_COMPLETIONS": "4"]) == Shard(index: 5, count: 6))
    #expect(try shard("0/2", ["JOB_COMPLETION_INDEX": "1", "JOB_COMPLETIONS": "2"]) == Shard(index: 0, count: 2))
  }

  @Test func aShardThatCannotBeTakenIsRefused() {
    let usage = "--shard takes INDEX/COUNT, with INDEX from 0 to COUNT-1 (e.g. 0/4)"
    for flag in ["4/4", "1", "-1/4", "a/b", "1/0", "1/2/3"] { expectRefusal(usage) { _ = try shard(flag) } }
    expectRefusal("give --shard INDEX/COUNT or --shard-count, not both") { _ = try shard("0/2", count: 2) }
    expectRefusal("--shard-count goes with JOB_COMPLETION_INDEX (an Indexed Job); else give --shard") {
      _ = try shard(nil, count: 2)
    }
    expectRefusal(
      "JOB_COMPLETION_INDEX is 1 but the number of shards is unknown: give --shard-count or set JOB_COMPLETIONS"
    ) { _ = try shard(nil, ["JOB_COMPLETION_INDEX": "1"]) }
    expectRefusal("JOB_COMPLETION_INDEX 4 is not a shard of 4 (0 to 3)") {
      _ = try shard(nil, ["JOB_COMPLETION_INDEX": "4", "JOB_COMPLETIONS": "4"])
    }
    expectRefusal("--jobs must be between 1 and 32") {
      try SyncPlan.validate(registry: "r.example.com", output: nil, concurrency: 4, jobs: 0)
    }
    expectRefusal("--max-requests-per-second must be a number above 0") { try PlanRules.check(requestsPerSecond: 0) }
  }

  @Test func aShardTakesOnlyItsRepositoriesAndTheirHosts() throws {
    let list = try SyncFile(
      yaml: "a.example.com:\n  images:\n    one: []\n    two: []\n    three: []\n    four: []\n", path: "l.yaml")
    var plan = SyncPlan(list: list, path: "l.yaml", registry: "mirror.example.com", output: nil)
    let all = plan.entries.map(\.repository)
    var taken = [String]()
    for index in 0..<2 {
      plan.shard = Shard(index: index, count: 2)
      taken += plan.entries.map(\.repository)
    }
    #expect(taken.sorted() == all.sorted())
  }

  @Test func theReportSaysWhatTheRunDid() throws {
    let digest = Digest(sha256Bytes: Array(repeating: 1, count: 32))
    let report = SyncReport(
      [
        .copied("m/app:1", digest, bytes: 1200), .alreadyThere("m/app:2", digest),
        .failed("r/absent", where: "images.yaml:4", PlanError("no such image")),
      ], shard: Shard(index: 1, count: 3), seconds: 2.34567)
    #expect(report.summary == "1 copied, 1 already there, 1 failed")
    let decoded = try JSONDecoder().decode(SyncReport.self, from: Data(try report.json().utf8))
    #expect(decoded == report)
    #expect(decoded.shard == "1/3" && decoded.seconds == 2.346 && decoded.bytes == 1200)
    #expect(decoded.failed == [SyncReport.Failed(image: "r/absent", error: "images.yaml:4: no such image")])
  }
}
