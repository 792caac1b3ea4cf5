import Testing

@testable import Mirror

@Suite struct SyncFileTests {
  @Test func readsSkopeoSyncFiles() throws {
    let yaml = """
      registry.example.com:
        images:
          busybox: []
          redis:
            - "1.0"
            - "sha256:0000000000000000000000000000000000000000000000000000000000000000"
        images-by-tag-regex:
          nginx: ^1\\.13\\.[12]-alpine-perl$
        images-by-semver:
          alpine: ">= 3.12.0, < 4"
        credentials:
          username: john
          password: secret
        tls-verify: false
      quay.io:
        images:
          coreos/etcd:
            - latest
      """
    let file = try SyncFile(yaml: yaml, path: "images.yaml")
    #expect(file.images.map(\.repository) == ["busybox", "redis", "nginx", "alpine", "coreos/etcd"])
    #expect(file.images[0].selection == .tags([]))
    #expect(file.images[0].tlsVerify == false && file.images[0].username == "john")
    #expect(file.images[4].registry == "quay.io" && file.images[4].tlsVerify)
    #expect(
      SyncFile.tags(file.images[2].selection, of: ["1.13.1-alpine-perl", "1.13.3-alpine-perl"]) == [
        "1.13.1-alpine-perl"
      ])
    #expect(
      SyncFile.tags(file.images[3].selection, of: ["3.11", "3.12.1", "3.19", "4.0", "edge", "3.13-rc1"]) == [
        "3.12.1", "3.19",
      ])
  }

  @Test func namesTheLineAndKeyAtFault() {
    #expect {
      try SyncFile(yaml: "reg.example:\n  images:\n    a: []\n  imags:\n    b: []\n", path: "f.yaml")
    } throws: { error in
      "\(error)".hasPrefix("f.yaml:4: reg.example: unknown key imags")
    }
    #expect {
      try SyncFile(yaml: "reg.example:\n  images-by-semver:\n    a: \"not a range\"\n", path: "f.yaml")
    } throws: { error in
      "\(error)".hasPrefix("f.yaml:3:")
    }
  }

  @Test(arguments: [
    ("^1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2"]),
    ("~1.2.3", ["1.2.9"], ["1.3.0"]),
    ("1.2.x", ["1.2.0", "1.2.7"], ["1.3.0"]),
    (">1.2 || <0.5", ["1.3.0", "0.4.9"], ["1.2.5", "0.5.0"]),
    ("^0.2.3", ["0.2.9"], ["0.3.0"]),
    ("!= 1.0.0, >= 1", ["1.0.1"], ["1.0.0"]),
  ])
  func semverRangesAsMastermindsReadsThem(range: String, inside: [String], outside: [String]) throws {
    let parsed = try #require(SemverRange(range))
    for tag in inside { #expect(parsed.contains(try #require(SemverRange.Version(tag))), "\(tag) in \(range)") }
    for tag in outside { #expect(!parsed.contains(try #require(SemverRange.Version(tag))), "\(tag) not in \(range)") }
  }
}
