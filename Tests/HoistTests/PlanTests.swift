import Archives
import Foundation
import OCI
import Testing
import Transfer

@testable import Hoist

let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("testdata").path

/// Expects `check` to refuse with exactly `message`.
func expectRefusal(_ message: String, sourceLocation: SourceLocation = #_sourceLocation, _ check: () throws -> Void) {
  #expect(sourceLocation: sourceLocation) { try check() } throws: { ($0 as? PlanError)?.description == message }
}

@Suite struct PushPlanTests {
  func plan(_ destinations: [String] = ["r.example.com/app:1"], _ change: (inout PushPlan) -> Void = { _ in })
    -> PushPlan
  {
    var plan = PushPlan(source: testdata + "/two-images.tar", destinations: destinations)
    change(&plan)
    return plan
  }

  @Test func eachRefusalSaysWhatToDoInstead() {
    expectRefusal("name the destinations, or give --registry (or HOIST_REGISTRY) to use the archive's names") {
      try plan([]).validate(defaultRegistry: nil)
    }
    expectRefusal("give destinations or --registry, not both") {
      try plan { $0.registry = "r.example.com" }.validate(defaultRegistry: nil)
    }
    expectRefusal("--chunk-size must be at least 5MiB") {
      try plan { $0.chunkSize = 1 << 20 }.validate(defaultRegistry: nil)
    }
    for concurrency in [0, 65] {
      expectRefusal("--concurrency must be between 1 and 64") {
        try plan { $0.concurrency = concurrency }.validate(defaultRegistry: nil)
      }
    }
    expectRefusal("--compression-level for zstd must be between 1 and 19") {
      try plan { ($0.compression, $0.compressionLevel) = (.zstd, 20) }.validate(defaultRegistry: nil)
    }
    expectRefusal("Docker schema 2 has no zstd layers; push zstd layers with OCI manifests (no --format docker)") {
      try plan { ($0.compression, $0.format) = (.zstd, .docker) }.validate(defaultRegistry: nil)
    }
    expectRefusal(
      "--referrers keeps every digest, which --format oci would change; referrers name their images by digest"
    ) {
      try plan { ($0.referrers, $0.format) = (ReferrerSelection(artifactTypes: []), .oci) }.validate(
        defaultRegistry: nil)
    }
  }

  @Test func hoistRegistryStandsInForDestinations() throws {
    try plan([]).validate(defaultRegistry: "mirror.example.com")
    let jobs = try plan([]).jobs(path: testdata + "/two-images.tar", defaultRegistry: "mirror.example.com/team")
    #expect(
      jobs.map(\.texts) == [["mirror.example.com/team/hoist/app:1.0"], ["mirror.example.com/team/hoist/tools:2.0"]])
    #expect(jobs.map(\.image) == ["example.com/hoist/app:1.0", "example.com/hoist/tools:2.0"])
  }

  @Test func moreTagsOfOneRepositoryAreOneJob() throws {
    let jobs = try plan(["r.example.com/app:1", "+latest"]) { $0.image = "example.com/hoist/app:1.0" }
      .jobs(path: testdata + "/two-images.tar", defaultRegistry: nil)
    #expect(jobs.count == 1 && jobs[0].texts == ["r.example.com/app:1", "r.example.com/app:latest"])
    #expect(jobs[0].image == "example.com/hoist/app:1.0")
    #expect(throws: PlanError.self) { try plan(["+latest"]).jobs(path: "", defaultRegistry: nil) }
  }

  @Test func aFilesReferrersTravelUnlessLeftOut() {
    let implied = plan().copyOptions(SessionSettings())
    #expect(implied.referrers?.implied == true && !implied.keepDigests)
    // With an implied selection, a digest-changing option is no conflict: the referrers step aside.
    #expect(throws: Never.self) { try plan { $0.format = .oci }.validate(defaultRegistry: nil) }
    let left = plan { $0.referrersLeftOut = true }.copyOptions(SessionSettings())
    #expect(left.referrers == nil && left.referrersLeftOutBecause == "--no-referrers")
    expectRefusal("--no-referrers and --referrers exclude each other") {
      try plan { ($0.referrersLeftOut, $0.referrers) = (true, ReferrerSelection()) }.validate(defaultRegistry: nil)
    }
  }

  @Test func theEngineGetsTheCompressionAndReferrersAsked() {
    let options = plan { ($0.compression, $0.referrers) = (.zstd, ReferrerSelection(artifactTypes: [])) }
      .copyOptions(SessionSettings())
    #expect(options.compression.isZstd && options.keepDigests && options.referrers != nil)
    // A manifest hoist builds for zstd layers is OCI: Docker schema 2 cannot describe them.
    #expect(options.builtFamily == .oci)
    #expect(plan().copyOptions(SessionSettings()).builtFamily == .docker)
  }
}

@Suite struct PullAndCopyPlanTests {
  @Test func pullTakesOneImageAndADestinationOrOutput() throws {
    expectRefusal("give one image and a destination, or --output") { _ = try PullPlan(arguments: ["a"], output: nil) }
    expectRefusal("name at least one image") { _ = try PullPlan(arguments: [], output: "b.tar") }
    let plan = try PullPlan(arguments: ["r.example.com/a", "./out.tar"], output: nil)
    #expect(plan.outputFormat == .dockerArchive)
    #expect(try plan.references().map(\.description) == ["r.example.com/a:latest"])
  }

  @Test func aDirFolderHoldsOneImageAndNoReferrers() throws {
    var several = try PullPlan(arguments: ["r.example.com/a", "r.example.com/b"], output: "./x")
    several.format = .dir
    expectRefusal("a dir: folder holds one image; pull several into an OCI layout or archive") {
      try several.validate()
    }
    var signed = try PullPlan(arguments: ["r.example.com/a"], output: "./x")
    (signed.format, signed.referrers) = (.dir, ReferrerSelection(artifactTypes: []))
    expectRefusal("a dir: folder holds one image and no referrers; pull to an OCI layout or archive") {
      try signed.validate()
    }
    var copy = CopyPlan(
      source: try ImageLocation(parsing: "r.example.com/a"), destination: try ImageLocation(parsing: "dir:./x"))
    copy.referrers = ReferrerSelection(artifactTypes: [])
    expectRefusal("a dir: folder holds one image and no referrers; copy to an OCI layout or archive") {
      try copy.validate()
    }
  }

  @Test func aDeltaIsAnOCILayoutOrTar() throws {
    var plan = try PullPlan(arguments: ["r.example.com/a", "./delta.tar"], output: nil)
    plan.since = ["./full.tar"]
    #expect(plan.outputFormat == .ociArchive)
    #expect(
      PlanRules.deltaFormatNotice(output: plan.output, given: nil, since: plan.since)?.hasPrefix("./delta.tar is")
        == true)
    try plan.validate()
    plan.format = .dockerArchive
    #expect(PlanRules.deltaFormatNotice(output: plan.output, given: plan.format, since: plan.since) == nil)
    expectRefusal(
      "a delta bundle (--since) leaves blobs out, which docker-archive cannot; write it as an OCI layout or an OCI "
        + "tar (--format oci-archive)"
    ) { try plan.validate() }
    plan.format = .ociArchive
    try plan.validate()
    plan.maxFileSize = 4 << 30
    try plan.validate()
    plan.format = .oci
    expectRefusal("--max-file-size splits a tar; write to a .tar, or give --format oci-archive or docker-archive") {
      try plan.validate()
    }
  }

  @Test func uncompressedLayersWouldChangeDigestsReferrersNeed() throws {
    var plan = try PullPlan(arguments: ["r.example.com/a", "./x.tar"], output: nil)
    (plan.uncompressedLayers, plan.referrers) = (true, ReferrerSelection(artifactTypes: []))
    expectRefusal(
      "--referrers keeps every digest, which --uncompressed-layers would change; referrers name their images by digest"
    ) { try plan.validate() }
  }

  @Test func aCopyFromAFileCarriesItsReferrersWhereTheDestinationCanHoldThem() throws {
    let layout = try ImageLocation(parsing: "oci:./layout")
    let registry = try ImageLocation(parsing: "r.example.com/app:1")
    #expect(CopyPlan(source: layout, destination: registry).copyOptions(SessionSettings()).referrers?.implied == true)
    #expect(CopyPlan(source: registry, destination: layout).copyOptions(SessionSettings()).referrers == nil)
    let intoDir = CopyPlan(source: layout, destination: try ImageLocation(parsing: "dir:./d")).copyOptions(
      SessionSettings())
    #expect(intoDir.referrers == nil && intoDir.referrersLeftOutBecause == "a dir: folder holds no referrers")
  }

  @Test func aCopyIntoALayoutBuildsOCIAndIntoADigestKeepsDigests() throws {
    let archive = try ImageLocation(parsing: "docker-archive:./app.tar")
    let intoLayout = CopyPlan(source: archive, destination: try ImageLocation(parsing: "oci:./layout"))
    #expect(intoLayout.copyOptions(SessionSettings()).builtFamily == .oci)
    let intoArchive = CopyPlan(source: archive, destination: try ImageLocation(parsing: "docker-archive:./b.tar"))
    #expect(intoArchive.copyOptions(SessionSettings()).builtFamily == .docker)
    let pinned = CopyPlan(
      source: archive,
      destination: try ImageLocation(parsing: "r.example.com/app@sha256:" + String(repeating: "b", count: 64)))
    #expect(pinned.copyOptions(SessionSettings()).keepDigests)
    #expect(pinned.hosts == ["r.example.com"])
    var tooMany = intoLayout
    tooMany.concurrency = 100
    expectRefusal("--concurrency must be between 1 and 64") { try tooMany.validate() }
  }
}

@Suite struct SociPlanTests {
  func soci(_ change: (inout SociSettings) -> Void = { _ in }) -> SociSettings {
    var settings = SociSettings()
    change(&settings)
    return settings
  }

  @Test func eachRefusalSaysWhatToDoInstead() throws {
    expectRefusal("--soci-span-size must be between 256KiB and 64MiB") {
      try PlanRules.check(soci: soci { $0.spanSize = 1024 })
    }
    expectRefusal("--soci-min-layer-size must not be negative") {
      try PlanRules.check(soci: soci { $0.minLayerSize = -1 })
    }
    expectRefusal("a SOCI index goes in an OCI image index; --soci cannot write --format docker") {
      try PlanRules.check(soci: soci(), format: .docker)
    }
    expectRefusal("SOCI reads gzip layers only; --soci cannot go with --compression zstd") {
      try PlanRules.check(soci: soci(), compression: .zstd)
    }
    expectRefusal("--soci changes the image manifest's digest (it names its SOCI index); give a tag, not a digest") {
      var plan = CopyPlan(
        source: try ImageLocation(parsing: "r.example.com/a:1"),
        destination: try ImageLocation(parsing: "r.example.com/b@sha256:" + String(repeating: "a", count: 64)))
      plan.soci = soci()
      try plan.validate()
    }
    expectRefusal("a docker-archive holds no SOCI index; copy --soci to a registry or an OCI layout") {
      var plan = CopyPlan(
        source: try ImageLocation(parsing: "r.example.com/a:1"), destination: try ImageLocation(parsing: "./out.tar"))
      plan.soci = soci()
      try plan.validate()
    }
    expectRefusal("--referrers keeps every digest, which --soci would change; referrers name their images by digest") {
      var plan = PushPlan(source: testdata + "/two-images.tar", destinations: ["r.example.com/app:1"])
      (plan.soci, plan.referrers) = (soci(), ReferrerSelection(artifactTypes: []))
      try plan.validate(defaultRegistry: nil)
    }
    try PlanRules.check(soci: nil, format: .docker, compression: .zstd)
  }

  @Test func sociCreateTakesEveryPlatformUnlessOneIsNamed() throws {
    let (source, destination) = (try ImageLocation(parsing: "r.example.com/a:1"), try ImageLocation(parsing: "./out"))
    let every = CopyPlan.sociCreate(source: source, destination: destination, platform: nil, settings: soci())
    #expect(every.platform == .all && every.soci == soci())
    let arm = try Platform(parsing: "linux/arm64")
    #expect(
      CopyPlan.sociCreate(source: source, destination: destination, platform: arm, settings: soci()).platform
        == .only(arm))
  }

  @Test func sociCompressesInMembersOfTheSpan() {
    var plan = PushPlan(source: testdata + "/two-images.tar", destinations: ["r.example.com/app:1"])
    plan.soci = soci { $0.spanSize = 2 << 20 }
    plan.compressionLevel = 4
    let options = plan.copyOptions(SessionSettings())
    #expect(options.soci == plan.soci)
    guard case .gzip(let codec) = options.compression else {
      Issue.record("not gzip")
      return
    }
    #expect((codec.blockSize, codec.level) == (2 << 20, 4))
    plan.soci = nil
    #expect(plan.copyOptions(SessionSettings()).compression.blockSize == 1 << 20)
  }
}
