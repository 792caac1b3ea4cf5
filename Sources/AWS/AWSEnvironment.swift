import Foundation
import OCI
import Transport

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

  /// The region: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`; a `BadSetting`
  /// when the one in force is not a region's name (lower-case letters, digits and dashes).
  public func region() throws -> String? {
    let sources: [(String, String?)] = [
      ("--region", explicitRegion), ("AWS_REGION", nonEmpty("AWS_REGION")),
      ("AWS_DEFAULT_REGION", nonEmpty("AWS_DEFAULT_REGION")),
      ("region of profile \(profile)", files.value("region", profile: profile)),
    ]
    for case (let source, let value?) in sources { return try Self.checkedRegion(value, from: source) }
    return nil
  }

  /// `value` if it can be a region's name in a host name and a SigV4 scope.
  static func checkedRegion(_ value: String, from source: String) throws -> String {
    let allowed = value.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    guard allowed, (1...40).contains(value.utf8.count) else {
      throw BadSetting(name: source, value: value, expected: "an AWS region (such as eu-west-1)")
    }
    return value
  }

  func nonEmpty(_ name: String) -> String? {
    variables[name].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// The endpoint for a service (`ecr`, `ecr-public`, `sts`, `sso`), honouring `AWS_ENDPOINT_URL_<SERVICE>`,
  /// `AWS_ENDPOINT_URL`, the profile's `services` section and `endpoint_url`, unless
  /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true; nil means the service's default. A configured value that is
  /// not a URL is a `BadSetting` naming where it was set.
  public func configuredEndpoint(service: String) throws -> URL? {
    try configuredEndpointText(service: service).map { try CheckedURL.make($0.value, from: $0.source) }
  }

  func configuredEndpointText(service: String) -> (value: String, source: String)? {
    if nonEmpty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true" { return nil }
    let variable = "AWS_ENDPOINT_URL_" + service.uppercased().replacingOccurrences(of: "-", with: "_")
    if let specific = nonEmpty(variable) { return (specific, variable) }
    if let global = nonEmpty("AWS_ENDPOINT_URL") { return (global, "AWS_ENDPOINT_URL") }
    let key = service.replacingOccurrences(of: "-", with: "_")
    if let servicesName = files.value("services", profile: profile),
      let url = files.services[servicesName]?["\(key).endpoint_url"]
    {
      return (url, "\(key).endpoint_url of services \(servicesName)")
    }
    return files.value("endpoint_url", profile: profile).map { ($0, "endpoint_url of profile \(profile)") }
  }

  /// The default endpoint `text` of a service, built from a region or a host name.
  static func defaultEndpoint(_ text: String, service: String) throws -> URL {
    try CheckedURL.make(text, from: "the \(service) endpoint")
  }
}
