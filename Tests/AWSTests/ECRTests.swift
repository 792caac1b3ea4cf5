import Foundation
import Testing

@testable import AWS

@Suite struct ECRHostTests {
  @Test func privateHosts() throws {
    let host = try #require(ECRHost(host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
    #expect(host.account == "123456789012" && host.region == "eu-west-1" && !host.fips)
    #expect(host.defaultEndpoint == "https://api.ecr.eu-west-1.amazonaws.com/")
    let fips = try #require(ECRHost(host: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com:443"))
    #expect(fips.fips && fips.defaultEndpoint == "https://ecr-fips.us-gov-west-1.amazonaws.com/")
    let china = try #require(ECRHost(host: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"))
    #expect(china.defaultEndpoint == "https://api.ecr.cn-north-1.amazonaws.com.cn/")
    let dualStack = try #require(ECRHost(host: "123456789012.dkr-ecr.ap-south-1.on.aws"))
    #expect(dualStack.region == "ap-south-1")
  }

  @Test func publicAndOthers() throws {
    let host = try #require(ECRHost(host: "public.ecr.aws"))
    #expect(host.isPublic && host.service == "ecr-public")
    #expect(ECRHost(host: "registry.example.com") == nil)
    #expect(ECRHost(host: "12345.dkr.ecr.us-east-1.amazonaws.com") == nil)
    #expect(ECRHost(host: "123456789012.dkr.ecr.us-east-1.example.com") == nil)
  }

  @Test func accessDeniedNamesTheAction() {
    let message =
      "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:CreateRepository on resource"
    #expect(AWSError.missingAction(in: message) == "ecr:CreateRepository")
    #expect(AWSError.missingAction(in: "Access denied") == nil)
  }
}

@Suite struct ConfigTests {
  @Test func parsesProfilesServicesAndNestedKeys() {
    let text = """
      [default]
      region = eu-west-1
      [profile ci]
      role_arn = arn:aws:iam::1:role/x
      services = local
      # a comment
      [services local]
      ecr =
        endpoint_url = http://127.0.0.1:5000
      sts =
        endpoint_url = http://127.0.0.1:5001
      """
    let sections = AWSConfigFiles.parse(text)
    #expect(sections["default"]?["region"] == "eu-west-1")
    #expect(sections["profile ci"]?["role_arn"] == "arn:aws:iam::1:role/x")
    #expect(sections["services local"]?["ecr.endpoint_url"] == "http://127.0.0.1:5000")
    #expect(sections["services local"]?["sts.endpoint_url"] == "http://127.0.0.1:5001")
  }

  @Test func endpointPrecedence() throws {
    var environment = AWSEnvironment(variables: ["HOME": "/nonexistent"])
    environment.files = AWSConfigFiles(
      profiles: ["default": ["services": "s", "endpoint_url": "http://profile"]],
      services: ["s": ["ecr.endpoint_url": "http://services-ecr"]])
    #expect(try environment.configuredEndpoint(service: "ecr")?.absoluteString == "http://services-ecr")
    #expect(try environment.configuredEndpoint(service: "sts")?.absoluteString == "http://profile")
    environment.variables["AWS_ENDPOINT_URL"] = "http://global"
    #expect(try environment.configuredEndpoint(service: "ecr")?.absoluteString == "http://global")
    environment.variables["AWS_ENDPOINT_URL_ECR"] = "http://ecr"
    #expect(try environment.configuredEndpoint(service: "ecr")?.absoluteString == "http://ecr")
    environment.variables["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
    #expect(try environment.configuredEndpoint(service: "ecr") == nil)
  }

  @Test func regionAndProfileOrder() throws {
    var environment = AWSEnvironment(variables: ["HOME": "/nonexistent", "AWS_DEFAULT_REGION": "b"])
    #expect(try environment.region() == "b")
    environment.variables["AWS_REGION"] = "a"
    #expect(try environment.region() == "a")
    environment.explicitRegion = "c"
    #expect(try environment.region() == "c")
    environment.variables["AWS_PROFILE"] = "p"
    #expect(environment.profile == "p")
  }
}

@Suite struct TokenCacheTests {
  let host = ECRHost(host: "123456789012.dkr.ecr.us-east-1.amazonaws.com")!

  @Test func keysByIdentityAndKeepsHalfALife() throws {
    let folder = NSTemporaryDirectory() + "hoist-ecr-cache-" + UUID().uuidString
    let cache = ECRTokenCache(file: URL(fileURLWithPath: folder + "/hoist/ecr-tokens.json"))
    let keys = AWSCredentials(accessKeyID: "AKIA1", secretAccessKey: "s", source: "test")
    let role = AWSCredentials(
      accessKeyID: "ASIA2", secretAccessKey: "s", roleARN: "arn:aws:iam::1:role/r", source: "test")
    let key = ECRTokenCache.key(host: host, credentials: keys)
    #expect(!key.contains("AKIA1"))
    #expect(ECRTokenCache.key(host: host, credentials: role).hasSuffix("arn:aws:iam::1:role/r"))

    let now = Date()
    let token = ECRClient.AuthorizationToken(username: "AWS", password: "pw", expiresAt: now.addingTimeInterval(43200))
    cache.store(token, for: key, now: now)
    #expect(cache.token(for: key, now: now.addingTimeInterval(3600)) == token)
    #expect(cache.token(for: key, now: now.addingTimeInterval(21700)) == nil)
    #expect(cache.token(for: "other", now: now) == nil)
    let mode = try FileManager.default.attributesOfItem(atPath: cache.file.path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    let folderMode =
      try FileManager.default.attributesOfItem(atPath: cache.file.deletingLastPathComponent().path)[.posixPermissions]
      as? Int
    #expect(folderMode == 0o700)
  }

  @Test func expiredTokensAreNotKept() {
    let cache = ECRTokenCache(file: URL(fileURLWithPath: NSTemporaryDirectory() + UUID().uuidString + "/t.json"))
    cache.store(
      ECRClient.AuthorizationToken(
        username: "AWS", password: "pw", expiresAt: Date(timeIntervalSince1970: 1_420_070_400)),
      for: "k")
    #expect(cache.token(for: "k") == nil)
    #expect(!FileManager.default.fileExists(atPath: cache.file.path))
  }
}
