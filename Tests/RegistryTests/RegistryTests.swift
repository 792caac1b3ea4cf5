import Foundation
import OCI
import Testing
import Transport

@testable import Registry

@Suite struct ChallengeTests {
  @Test func bearerWithQuotedParameters() throws {
    let challenge = try #require(
      Challenge(
        header:
          #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#
      ))
    #expect(challenge.scheme == "bearer")
    #expect(challenge.parameters["realm"] == "https://auth.example.com/token")
    #expect(challenge.parameters["scope"] == "repository:a/b:pull,push")
  }

  @Test func basicAndOddSpacing() throws {
    let challenge = try #require(Challenge(header: #"Basic  realm = "a \"quoted\" realm" , charset=UTF-8"#))
    #expect(challenge.scheme == "basic")
    #expect(challenge.parameters["realm"] == #"a "quoted" realm"#)
    #expect(challenge.parameters["charset"] == "UTF-8")
    #expect(Challenge(header: "") == nil)
  }
}

@Suite struct ProxyTests {
  let settings = ProxySettings(environment: [
    "HTTPS_PROXY": "http://user:pw@proxy.corp:3128", "http_proxy": "proxy.corp:8080",
    "NO_PROXY": "internal.example.com, .corp.example",
  ])

  @Test func choosesByScheme() {
    #expect(settings.server(scheme: "https", host: "registry.example.com")?.port == 3128)
    #expect(settings.server(scheme: "https", host: "registry.example.com")?.username == "user")
    #expect(settings.server(scheme: "http", host: "registry.example.com")?.port == 8080)
  }

  @Test func noProxyAndLoopbackGoDirect() {
    #expect(settings.server(scheme: "https", host: "internal.example.com") == nil)
    #expect(settings.server(scheme: "https", host: "a.internal.example.com") == nil)
    #expect(settings.server(scheme: "https", host: "x.corp.example") == nil)
    #expect(settings.server(scheme: "https", host: "localhost") == nil)
    #expect(settings.server(scheme: "https", host: "127.0.0.1") == nil)
  }
}

@Suite struct DockerConfigTests {
  @Test func storesReadsAndErases() throws {
    let folder = NSTemporaryDirectory() + "hoist-config-" + UUID().uuidString
    let config = DockerConfigFile(path: folder + "/config.json")
    #expect(try config.credentials(for: "registry.example.com") == nil)
    try config.store(RegistryCredentials(username: "u", password: "p:w"), for: "registry.example.com")
    #expect(try config.credentials(for: "registry.example.com") == RegistryCredentials(username: "u", password: "p:w"))
    let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(try config.erase(for: "registry.example.com"))
    #expect(try config.credentials(for: "registry.example.com") == nil)
  }

  @Test func dockerHubKeyAndSchemes() throws {
    #expect(DockerConfigFile.authKey("docker.io") == "https://index.docker.io/v1/")
    #expect(DockerConfigFile.host(fromKey: "https://registry.example.com/v1/") == "registry.example.com")
  }

  @Test func uploadFinishURLKeepsTheQuery() {
    let digest = "sha256:" + String(repeating: "a", count: 64)
    #expect(
      RegistryClient.finishURL("https://r/v2/a/blobs/uploads/u?_state=x", digest: try! .init(digest))
        == "https://r/v2/a/blobs/uploads/u?_state=x&digest=\(digest)")
    #expect(RegistryClient.finishURL("https://r/u", digest: try! .init(digest)) == "https://r/u?digest=\(digest)")
  }
}
