import Foundation

/// The two STS calls the credential chain needs: AssumeRole (signed) and AssumeRoleWithWebIdentity (unsigned).
struct STS {
  let http: AWSHTTP
  let environment: AWSEnvironment

  /// The STS endpoint: configured, else regional, else global.
  func endpoint() throws -> URL {
    if let configured = try environment.configuredEndpoint(service: "sts") { return configured }
    let region = try environment.region()
    return try AWSEnvironment.defaultEndpoint(
      region.map { "https://sts.\($0).amazonaws.com/" } ?? "https://sts.amazonaws.com/", service: "STS")
  }

  func assumeRole(
    with source: AWSCredentials, roleARN: String, sessionName: String, externalID: String?
  ) async throws -> AWSCredentials {
    var parameters = [
      ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName),
    ]
    if let externalID { parameters.append(("ExternalId", externalID)) }
    let signer = SigV4Signer(credentials: source, region: try environment.region() ?? "us-east-1", service: "sts")
    return try await call(parameters, signer: signer, roleARN: roleARN, source: "assumed role \(roleARN)")
  }

  func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String) async throws -> AWSCredentials {
    let parameters = [
      ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
      ("RoleSessionName", sessionName), ("WebIdentityToken", token),
    ]
    return try await call(parameters, signer: nil, roleARN: roleARN, source: "web identity for \(roleARN)")
  }

  private func call(
    _ parameters: [(String, String)], signer: SigV4Signer?, roleARN: String, source: String
  ) async throws -> AWSCredentials {
    let operation = "STS \(parameters[0].1) for \(roleARN)"
    let form = parameters.map { "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }.joined(separator: "&")
    let (status, body) = try await http.send(
      method: .POST, url: try endpoint(),
      headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
      body: Array(form.utf8), signer: signer, operation: operation)
    guard status == 200 else { throw AWSHTTP.error(status: status, body: body, operation: operation) }
    let text = String(decoding: body, as: UTF8.self)
    guard let key = xmlValue("AccessKeyId", in: text), let secret = xmlValue("SecretAccessKey", in: text) else {
      throw AWSError.transport(operation: operation, reason: "the answer has no credentials")
    }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: xmlValue("SessionToken", in: text),
      expiration: xmlValue("Expiration", in: text).flatMap(parseDate), roleARN: roleARN, source: source)
  }
}
