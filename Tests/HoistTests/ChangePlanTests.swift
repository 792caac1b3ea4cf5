import Foundation
import OCI
import Testing

@testable import Hoist

@Suite struct ChangePlanTests {
  let image = try! ImageLocation(parsing: "r.example.com/app:1")

  @Test func mutateReadsWhatUsersWrite() throws {
    var plan = MutatePlan(source: image, destination: image)
    (plan.labels, plan.exposedPorts) = (["a=1", "a=2", "b="], ["80", "53/udp"])
    (plan.entrypoint, plan.command) = (#"["/bin/sh","-c"]"#, "serve,--port,80")
    try plan.validate()
    let edit = try plan.edit()
    #expect(edit.labels == ["a": "2", "b": ""])
    #expect(edit.exposedPorts == ["80/tcp", "53/udp"])
    #expect(edit.entrypoint == ["/bin/sh", "-c"] && edit.command == ["serve", "--port", "80"])
  }

  @Test func mutateRefusesWhatItCannotApply() {
    var plan = MutatePlan(source: image, destination: image)
    plan.labels = ["novalue"]
    expectRefusal("--label novalue: give KEY=VALUE") { try plan.validate() }
    plan.labels = []
    plan.exposedPorts = ["70000"]
    expectRefusal("--expose takes PORT[/tcp|/udp]") { try plan.validate() }
    plan.exposedPorts = []
    plan.created = "yesterday"
    expectRefusal("--created yesterday: not an RFC 3339 time such as 2024-01-01T00:00:00Z") { try plan.validate() }
  }

  @Test func appendRefusesAndClampsTime() throws {
    var plan = AppendPlan(base: image, destination: image, layers: [])
    expectRefusal("give at least one --layer") { try plan.validate() }
    plan.layers = ["./dist:/app"]
    plan.owner = "root"
    expectRefusal("--owner takes UID:GID, e.g. 1000:1000") { try plan.validate() }
    plan.owner = "1000:1000"
    try plan.validate()
    #expect(plan.clamp(environment: ["SOURCE_DATE_EPOCH": "1700000000"]) == 1_700_000_000)
    #expect(plan.clamp(environment: [:]) == 0)
    plan.created = "2024-01-01T00:00:00Z"
    #expect(plan.clamp(environment: ["SOURCE_DATE_EPOCH": "1"]) == 1_704_067_200)
    #expect(PlanInputs.layer("./dist:/app") == ("./dist", "/app") && PlanInputs.layer("c:\\x") == ("c:\\x", "/"))
  }

  @Test func attachNamesItsFilesAndItsTime() throws {
    var plan = AttachPlan(
      subject: try ImageLocation.registryReference("r.example.com/app:1"), files: [], artifactType: "sbom")
    expectRefusal("name at least one file to attach") { try plan.validate() }
    plan.files = ["sbom.json", "scan.json:application/json"]
    expectRefusal("--artifact-type sbom: not a media type") { try plan.validate() }
    plan.artifactType = "application/spdx+json"
    try plan.validate()
    #expect(plan.files.map { plan.file($0).mediaType } == ["application/spdx+json", "application/json"])
    let now = Date(timeIntervalSince1970: 0)
    #expect(plan.manifestAnnotations(now: now)[AttachPlan.created] == "1970-01-01T00:00:00Z")
    plan.annotations = ["\(AttachPlan.created)=2020-01-01T00:00:00Z"]
    #expect(plan.manifestAnnotations(now: now)[AttachPlan.created] == "2020-01-01T00:00:00Z")
  }

  @Test func indexTakesTheDestinationFirstAndTagsAnywhere() throws {
    expectRefusal("give the destination, then at least one image") { _ = try IndexPlan(arguments: ["+x"], also: []) }
    expectRefusal("give the destination, then at least one image") {
      _ = try IndexPlan(arguments: ["r.example.com/app:1"], also: [])
    }
    let plan = try IndexPlan(
      arguments: ["r.example.com/app:1", "r.example.com/app:1-amd64", "+latest", "oci:./arm64"],
      also: ["other.example.com/app:1"])
    #expect(plan.destinations == ["r.example.com/app:1", "+latest", "other.example.com/app:1"])
    #expect(plan.sources.count == 2)
    #expect(try plan.hosts() == ["r.example.com", "r.example.com", "other.example.com", "r.example.com"])
  }

  @Test func syncGoesToARegistryOrABundle() throws {
    expectRefusal("give --registry or --output, one of them") {
      try SyncPlan.validate(registry: nil, output: nil, concurrency: 4)
    }
    expectRefusal("give --registry or --output, one of them") {
      try SyncPlan.validate(registry: "r", output: "b.tar", concurrency: 4)
    }
    try SyncPlan.validate(registry: "r.example.com", output: nil, concurrency: 4)
    expectRefusal("--since and --max-file-size shape a bundle; give --output") {
      try SyncPlan.validate(registry: "r.example.com", output: nil, concurrency: 4, since: ["old.tar"])
    }
    expectRefusal("--max-file-size splits a .tar bundle into parts of at least 1MiB") {
      try SyncPlan.validate(registry: nil, output: "./layout", concurrency: 4, maxFileSize: 4 << 30)
    }
    try SyncPlan.validate(registry: nil, output: "mirror.tar", concurrency: 4, maxFileSize: 4 << 30)
  }
}
