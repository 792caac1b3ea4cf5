import AWS
import ECR
import Foundation
import Registry
import TestSupport
import Testing
import Transport

@testable import Hoist

@Suite struct SessionTests {
  let ecr: ECRAccess = {
    let host = ECRHost(host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com")!
    let aws = AWSSession(
      environment: AWSEnvironment(variables: [:]), http: AWSHTTP(over: FakeRegistry(), options: TransportOptions()))
    return ECRAccess(host: host, registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", session: aws, cache: nil)
  }()
  let given = RegistryCredentials(username: "ci", password: "secret")
  let configured = RegistryCredentials(username: "docker", password: "config")

  @Test func credentialsGivenOnTheCommandLineWinEvenForECR() async throws {
    let provider = Session.credentialProvider(explicit: given, configured: given, ecr: ecr)
    #expect(provider is StaticCredentials)
    #expect(try await provider.credentials(refresh: false)?.username == "ci")
  }

  @Test func anECRHostLogsInFromAWSWithDockersConfigAsFallback() {
    #expect(Session.credentialProvider(explicit: nil, configured: configured, ecr: ecr) is ECRCredentialProvider)
  }

  @Test func otherHostsUseDockersConfig() async throws {
    let provider = Session.credentialProvider(explicit: nil, configured: configured, ecr: nil)
    #expect(try await provider.credentials(refresh: false)?.username == "docker")
  }

  @Test func settingsSayWhereTheCachesAreAndWhenThereAreNone() {
    var settings = SessionSettings()
    settings.environment = ["XDG_CACHE_HOME": "/tmp/cache-test"]
    #expect(settings.cacheFolder.path == "/tmp/cache-test/hoist")
    #expect(settings.ecrLoginCache() != nil)
    settings.environment["AWS_ECR_DISABLE_CACHE"] = "true"
    #expect(settings.ecrLoginCache() == nil)
    settings.environment = [:]
    settings.noCache = true
    #expect(settings.ecrLoginCache() == nil)
    settings.retries = 2
    #expect(settings.copyOptions(concurrency: 3).retryPolicy.attempts == 2)
    #expect(settings.transportOptions(hosts: ["a", "b"], alsoPlain: ["c"]).plainHTTPHosts == ["c"])
    settings.plainHTTP = true
    #expect(settings.transportOptions(hosts: ["a", "b"], alsoPlain: ["c"]).plainHTTPHosts == ["a", "b", "c"])
  }

  @Test func aPolicyDocumentMustBeAJSONObject() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: file) }
    try Data("[1, 2]".utf8).write(to: file)
    #expect { try RepositoryPolicyKind.lifecycle.document(file: file.path) } throws: {
      "\($0)" == "\(file.path): the lifecycle policy is not a JSON object"
    }
    #expect { try RepositoryPolicyKind.access.document(file: file.path + ".gone") } throws: {
      "\($0)" == "\(file.path).gone: cannot read the policy file"
    }
    try Data(#"{"rules": []}"#.utf8).write(to: file)
    #expect { try RepositoryPolicyKind.lifecycle.document(file: file.path) } throws: {
      "\($0)" == "\(file.path): not a lifecycle policy ECR takes: rules: a list of at least one rule"
    }
    #expect(try RepositoryPolicyKind.access.document(file: file.path) == #"{"rules": []}"#)
  }
}
