import Testing

@testable import OCI

@Suite struct ReferenceTests {
  @Test func fullReference() throws {
    let reference = try Reference(parsing: "registry.example.com/team/app:1.4")
    #expect(reference.registry == "registry.example.com")
    #expect(reference.repository == "team/app")
    #expect(reference.tag == "1.4")
    #expect(reference.digest == nil)
  }

  @Test func registryWithPortAndNoTag() throws {
    let reference = try Reference(parsing: "localhost:5000/app")
    #expect(reference.registry == "localhost:5000")
    #expect(reference.repository == "app")
    #expect(reference.tag == nil)
  }

  @Test func dockerHubDefaults() throws {
    let reference = try Reference(parsing: "alpine:3")
    #expect(reference.registry == "docker.io")
    #expect(reference.repository == "library/alpine")
    #expect(reference.endpointHost == "registry-1.docker.io")
    #expect(try Reference(parsing: "user/app").repository == "user/app")
  }

  @Test func tagAndDigest() throws {
    let hex = String(repeating: "0", count: 64)
    let reference = try Reference(parsing: "localhost/app:1@sha256:\(hex)")
    #expect(reference.tag == "1")
    #expect(reference.digest?.hex == hex)
    #expect(reference.description == "localhost/app:1@sha256:\(hex)")
  }

  @Test(arguments: [
    "localhost:5000/UPPER/case:1", "registry.example.com/app:", "registry.example.com/app:-bad",
    "registry.example.com//app", "registry.example.com/app@sha256:short", "a/b..c",
    "app:\(String(repeating: "t", count: 129))",
  ])
  func refusesInvalid(_ text: String) {
    #expect(throws: OCIError.self) { try Reference(parsing: text) }
  }

  @Test func separators() {
    #expect(Reference.isValidPathComponent("a.b_c__d---e"))
    #expect(!Reference.isValidPathComponent("a___b"))
    #expect(!Reference.isValidPathComponent("-a"))
  }

  @Test(arguments: [
    ("app:1.4", "r.example.com", "r.example.com/app:1.4"),
    ("library/nginx:1", "r.example.com", "r.example.com/library/nginx:1"),
    ("ghcr.io/org/tool:2", "r.example.com", "r.example.com/org/tool:2"),
    ("docker.io/library/alpine:3", "r.example.com", "r.example.com/library/alpine:3"),
    ("localhost/app:1", "localhost:5000", "localhost:5000/app:1"),
    ("localhost:5000/team/app", "registry.internal:5000/mirror", "registry.internal:5000/mirror/team/app:latest"),
    ("team/app:1", "https://registry.internal:5000/mirror/", "registry.internal:5000/mirror/team/app:1"),
  ])
  func placesNamesUnderAPrefix(_ name: String, _ prefix: String, _ expected: String) throws {
    #expect(try Reference.placing(name, under: prefix).description == expected)
  }

  @Test func placingRefusesWhatNoRegistryTakes() {
    #expect(throws: OCIError.self) { try Reference.placing("App:1", under: "r.example.com") }
    #expect(throws: OCIError.self) { try Reference.placing("app:1", under: "") }
  }
}

@Suite struct DestinationListTests {
  @Test func plusTagsJoinTheReferenceBefore() throws {
    let parsed = try Reference.destinations(["reg.example/app:1.4", "+latest", "other.example/app"])
    #expect(parsed.map(\.text) == ["reg.example/app:1.4", "reg.example/app:latest", "other.example/app"])
    #expect(parsed.map { $0.reference.tag } == ["1.4", "latest", "latest"])
    #expect(throws: OCIError.self) { try Reference.destinations(["+latest"]) }
    #expect(throws: OCIError.self) {
      try Reference.destinations(["reg.example/app@sha256:" + String(repeating: "0", count: 64)])
    }
  }
}
