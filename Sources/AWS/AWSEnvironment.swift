import Foundation

/// What the AWS code reads from its surroundings: variables, the shared files, the chosen profile and
/// region. Tests build one by hand; the CLI builds it from the process.
public struct AWSEnvironment: Sendable {
  public var variables: [String: String]
  public var files: AWSConfigFiles
  /// `--profile`, which (as in botocore) also turns off credentials from environment variables.
  public var explicitProfile: String?
  /// `--region`.
  public var explicitRegion: String?

  public init(
    variables: [String: String] = ProcessInfo.processInfo.environment, explicitProfile: String? = nil,
    explicitRegion: String? = nil
  ) {
    self.variables = variables
    self.files = AWSConfigFiles.load(environment: variables)
    self.explicitProfile = explicitProfile
    self.explicitRegion = explicitRegion
  }

  /// The profile in force: `--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, else `default`.
  public var profile: String {
    explicitProfile ?? nonEmpty("AWS_PROFILE") ?? nonEmpty("AWS_DEFAULT_PROFILE") ?? "default"
  }

  /// The region: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
  public var region: String? {
    explicitRegion ?? nonEmpty("AWS_REGION") ?? nonEmpty("AWS_DEFAULT_REGION")
      ?? files.value("region", profile: profile)
  }

  func nonEmpty(_ name: String) -> String? {
    variables[name].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// The endpoint for a service (`ecr`, `ecr-public`, `sts`), honouring `AWS_ENDPOINT_URL_<SERVICE>`,
  /// `AWS_ENDPOINT_URL`, the profile's `services` section and `endpoint_url`, unless
  /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true; nil means the service's default.
  public func configuredEndpoint(service: String) -> String? {
    if nonEmpty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true" { return nil }
    let variable = "AWS_ENDPOINT_URL_" + service.uppercased().replacingOccurrences(of: "-", with: "_")
    if let specific = nonEmpty(variable) { return specific }
    if let global = nonEmpty("AWS_ENDPOINT_URL") { return global }
    let key = service.replacingOccurrences(of: "-", with: "_")
    if let servicesName = files.value("services", profile: profile),
      let url = files.services[servicesName]?["\(key).endpoint_url"]
    {
      return url
    }
    return files.value("endpoint_url", profile: profile)
  }
}
