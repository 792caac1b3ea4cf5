import Foundation
import Streams
import Transport

/// Finds AWS credentials in botocore's order: environment, assume-role profile, web identity, SSO,
/// shared credentials file, `credential_process`, config file keys, container credentials, EC2 IMDSv2.
public struct CredentialChain: Sendable {
  let environment: AWSEnvironment
  let http: AWSHTTP

  public init(environment: AWSEnvironment, http: AWSHTTP) {
    self.environment = environment
    self.http = http
  }

  var sts: STS { STS(http: http, environment: environment) }

  /// The first credentials the chain yields.
  public func resolve() async throws -> AWSCredentials {
    if environment.explicitProfile == nil, let credentials = fromEnvironment() { return credentials }
    let profile = environment.profile
    if let credentials = try await fromProfile(profile, depth: 0) { return credentials }
    if let credentials = try await fromContainer() { return credentials }
    if let credentials = try await fromInstanceMetadata() { return credentials }
    throw AWSError.noCredentials(
      "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, configure profile \"\(profile)\" in ~/.aws, "
        + "or run where web identity, container or instance credentials are provided")
  }

  func fromEnvironment() -> AWSCredentials? {
    guard let key = environment.nonEmpty("AWS_ACCESS_KEY_ID"),
      let secret = environment.nonEmpty("AWS_SECRET_ACCESS_KEY")
    else { return nil }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: environment.nonEmpty("AWS_SESSION_TOKEN"),
      source: "environment")
  }

  /// A profile's credentials, in botocore's order within the profile chain.
  func fromProfile(_ name: String, depth: Int) async throws -> AWSCredentials? {
    guard depth < 8 else {
      throw AWSError.credentialSource(source: "profile \(name)", reason: "source_profile chain is too long or cyclic")
    }
    let files = environment.files
    func value(_ key: String) -> String? { files.value(key, profile: name) }

    if let roleARN = value("role_arn") {
      let sessionName = value("role_session_name") ?? "hoist-\(Int(Date().timeIntervalSince1970))"
      if let tokenFile = value("web_identity_token_file") {
        return try await webIdentity(roleARN: roleARN, tokenFile: tokenFile, sessionName: sessionName)
      }
      let source: AWSCredentials
      if let sourceProfile = value("source_profile") {
        guard
          let found = sourceProfile == name
            ? staticKeys(name) : try await fromProfile(sourceProfile, depth: depth + 1)
        else {
          throw AWSError.credentialSource(
            source: "profile \(name)", reason: "source_profile \(sourceProfile) has no credentials")
        }
        source = found
      } else if let credentialSource = value("credential_source") {
        let found: AWSCredentials?
        switch credentialSource {
        case "Environment": found = fromEnvironment()
        case "EcsContainer": found = try await fromContainer()
        case "Ec2InstanceMetadata": found = try await fromInstanceMetadata()
        default:
          throw AWSError.credentialSource(
            source: "profile \(name)", reason: "unknown credential_source \(credentialSource)")
        }
        guard let found else {
          throw AWSError.credentialSource(source: "profile \(name)", reason: "\(credentialSource) has no credentials")
        }
        source = found
      } else {
        throw AWSError.credentialSource(
          source: "profile \(name)",
          reason: "role_arn needs source_profile, credential_source or web_identity_token_file")
      }
      return try await sts.assumeRole(
        with: source, roleARN: roleARN, sessionName: sessionName, externalID: value("external_id"))
    }
    if depth == 0, let credentials = try await fromWebIdentityVariables() { return credentials }
    if value("sso_account_id") != nil, let credentials = try await fromSSO(profile: name) { return credentials }
    if let credentials = staticKeys(name, fileOnly: true) { return credentials }
    if let command = value("credential_process") { return try fromProcess(command, profile: name) }
    return staticKeys(name)
  }

  /// Keys written in the credentials file (`fileOnly`) or in either file.
  func staticKeys(_ name: String, fileOnly: Bool = false) -> AWSCredentials? {
    let section = fileOnly ? environment.files.credentials[name] : environment.files.profiles[name]
    guard let key = section?["aws_access_key_id"], let secret = section?["aws_secret_access_key"] else {
      return fileOnly ? nil : staticKeys(name, fileOnly: true)
    }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: section?["aws_session_token"],
      source: "profile \(name)")
  }

  func fromWebIdentityVariables() async throws -> AWSCredentials? {
    guard let tokenFile = environment.nonEmpty("AWS_WEB_IDENTITY_TOKEN_FILE"),
      let roleARN = environment.nonEmpty("AWS_ROLE_ARN")
    else { return nil }
    let sessionName = environment.nonEmpty("AWS_ROLE_SESSION_NAME") ?? "hoist-\(Int(Date().timeIntervalSince1970))"
    return try await webIdentity(roleARN: roleARN, tokenFile: tokenFile, sessionName: sessionName)
  }

  private func webIdentity(roleARN: String, tokenFile: String, sessionName: String) async throws -> AWSCredentials {
    guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
      throw AWSError.credentialSource(source: "web identity", reason: "cannot read the token file \(tokenFile)")
    }
    return try await sts.assumeRoleWithWebIdentity(
      roleARN: roleARN, sessionName: sessionName, token: token.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// `credential_process`: runs the command and reads its JSON (version 1).
  func fromProcess(_ command: String, profile: String) throws -> AWSCredentials {
    let source = "credential_process of profile \(profile)"
    let helper = HelperProcess(
      arguments: ["/bin/sh", "-c", command], timeout: try HelperProcess.timeout(from: environment.variables),
      mergeStandardError: false)
    let outcome: HelperProcess.Outcome
    do { outcome = try helper.run(input: Data()) } catch {
      throw AWSError.credentialSource(source: source, reason: "\(error)")
    }
    guard outcome.status == 0 else {
      throw AWSError.credentialSource(source: source, reason: "it exited with status \(outcome.status)")
    }
    let data = outcome.output
    guard let (document, key, secret) = CredentialDocument.read(data) else {
      throw AWSError.credentialSource(source: source, reason: "its output is not credential JSON")
    }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: document.sessionToken,
      expiration: document.expiration.flatMap(parseDate), source: source)
  }

  /// IAM Identity Center: the cached access token of the profile's SSO session, exchanged at the SSO portal.
  func fromSSO(profile: String) async throws -> AWSCredentials? {
    let files = environment.files
    func value(_ key: String) -> String? { files.value(key, profile: profile) }
    guard let account = value("sso_account_id"), let role = value("sso_role_name") else { return nil }
    let session = value("sso_session")
    let region = session.flatMap { files.ssoSessions[$0]?["sso_region"] } ?? value("sso_region")
    guard let cacheKey = session ?? value("sso_start_url"), let region else {
      throw AWSError.credentialSource(
        source: "SSO profile \(profile)", reason: "sso_session or sso_start_url and sso_region are needed")
    }
    let hash = SHA1.hex(Array(cacheKey.utf8))
    let home = environment.variables["HOME"] ?? NSHomeDirectory()
    let cacheFile = home + "/.aws/sso/cache/\(hash).json"
    guard let data = FileManager.default.contents(atPath: cacheFile),
      let cached = try? JSONDecoder().decode(SSOCachedLogin.self, from: data),
      let token = cached.accessToken
    else {
      throw AWSError.credentialSource(source: "SSO profile \(profile)", reason: "no cached login; run aws sso login")
    }
    if let expires = cached.expiresAt.flatMap(parseDate), expires < Date() {
      throw AWSError.credentialSource(
        source: "SSO profile \(profile)", reason: "the SSO login expired; run aws sso login")
    }
    let ssoRegion = try AWSEnvironment.checkedRegion(region, from: "sso_region of profile \(profile)")
    let base =
      try environment.configuredEndpoint(service: "sso")
      ?? AWSEnvironment.defaultEndpoint("https://portal.sso.\(ssoRegion).amazonaws.com", service: "SSO")
    var components = URLComponents(
      url: base.appendingPathComponent("federation/credentials"), resolvingAgainstBaseURL: false)
    components?.queryItems = [
      URLQueryItem(name: "account_id", value: account), URLQueryItem(name: "role_name", value: role),
    ]
    guard let url = components?.url else {
      throw AWSError.credentialSource(
        source: "SSO profile \(profile)", reason: "no URL for account \(account), role \(role)")
    }
    let operation = "SSO GetRoleCredentials for \(account)/\(role)"
    let (status, body) = try await http.send(
      method: .GET, url: url, headers: [("x-amz-sso_bearer_token", token)], signer: nil,
      operation: operation)
    guard status == 200 else { throw AWSHTTP.error(status: status, body: body, operation: operation) }
    guard let answer = try? JSONDecoder().decode(SSORoleCredentials.self, from: body),
      let credentials = answer.roleCredentials,
      let key = credentials.accessKeyId, let secret = credentials.secretAccessKey
    else { throw AWSError.transport(operation: operation, reason: "the answer has no credentials") }
    let expiration = credentials.expiration.map { Date(timeIntervalSince1970: $0 / 1000) }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: credentials.sessionToken,
      expiration: expiration, roleARN: "arn:aws:iam::\(account):role/\(role)", source: "SSO profile \(profile)")
  }

  /// ECS and EKS Pod Identity: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `_FULL_URI` with its token.
  func fromContainer() async throws -> AWSCredentials? {
    let url: URL
    if let relative = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
      url = try CheckedURL.make("http://169.254.170.2" + relative, from: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    } else if let full = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
      url = try CheckedURL.make(full, from: "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    } else {
      return nil
    }
    var headers = [(String, String)]()
    if let tokenFile = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
      let token = try? String(contentsOfFile: tokenFile, encoding: .utf8)
    {
      headers.append(("Authorization", token.trimmingCharacters(in: .whitespacesAndNewlines)))
    } else if let token = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
      headers.append(("Authorization", token))
    }
    let operation = "container credentials from \(url.host ?? "")"
    let (status, body) = try await http.send(
      method: .GET, url: url, headers: headers, signer: nil, operation: operation, timeout: .seconds(5))
    guard status == 200 else {
      throw AWSError.credentialSource(source: "container credentials", reason: "the endpoint answered HTTP \(status)")
    }
    return try Self.metadataCredentials(body, source: "container credentials")
  }

  /// EC2 instance metadata, IMDSv2 (token first), unless `AWS_EC2_METADATA_DISABLED` is true.
  func fromInstanceMetadata() async throws -> AWSCredentials? {
    if environment.nonEmpty("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
    let base = environment.nonEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
    let source = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
    let operation = "instance metadata credentials"
    do {
      let (tokenStatus, tokenBody) = try await http.send(
        method: .PUT, url: try CheckedURL.make(base + "/latest/api/token", from: source),
        headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], signer: nil, operation: operation,
        timeout: .seconds(2), retried: false)
      guard tokenStatus == 200 else { return nil }
      let token = [("X-aws-ec2-metadata-token", String(decoding: tokenBody, as: UTF8.self))]
      let listURL = try CheckedURL.make(base + "/latest/meta-data/iam/security-credentials/", from: source)
      let (listStatus, listBody) = try await http.send(
        method: .GET, url: listURL, headers: token, signer: nil, operation: operation, timeout: .seconds(2),
        retried: false)
      guard listStatus == 200, let role = String(decoding: listBody, as: UTF8.self).split(separator: "\n").first
      else { return nil }
      let (status, body) = try await http.send(
        method: .GET, url: listURL.appendingPathComponent(String(role)), headers: token, signer: nil,
        operation: operation, timeout: .seconds(2), retried: false)
      guard status == 200 else { return nil }
      return try Self.metadataCredentials(body, source: "instance metadata")
    } catch AWSError.unreachable, AWSError.transport {
      return nil
    }
  }

  /// The JSON the container and instance endpoints answer.
  static func metadataCredentials(_ body: Data, source: String) throws -> AWSCredentials {
    guard let (document, key, secret) = CredentialDocument.read(body) else {
      throw AWSError.credentialSource(source: source, reason: "the answer is not credential JSON")
    }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: document.token,
      expiration: document.expiration.flatMap(parseDate), roleARN: document.roleARN, source: source)
  }
}
