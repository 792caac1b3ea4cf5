import Foundation

/// The shared AWS files, `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`,
/// `AWS_CONFIG_FILE`), parsed as botocore reads them.
public struct AWSConfigFiles: Sendable {
  /// Profiles of the credentials file, by name.
  public var credentials: [String: [String: String]]
  /// Profiles of the config file, by name (`[profile dev]` and `[default]`).
  public var profiles: [String: [String: String]]
  /// `[services NAME]` sections, with nested keys flattened as `ecr.endpoint_url`.
  public var services: [String: [String: String]]
  /// `[sso-session NAME]` sections.
  public var ssoSessions: [String: [String: String]]

  public init(
    credentials: [String: [String: String]] = [:], profiles: [String: [String: String]] = [:],
    services: [String: [String: String]] = [:], ssoSessions: [String: [String: String]] = [:]
  ) {
    self.credentials = credentials
    self.profiles = profiles
    self.services = services
    self.ssoSessions = ssoSessions
  }

  /// Reads the files the environment points to; missing files are empty.
  public static func load(environment: [String: String]) -> AWSConfigFiles {
    let home = environment["HOME"] ?? NSHomeDirectory()
    let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
    let configPath = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
    var files = AWSConfigFiles()
    files.credentials = parse(read(credentialsPath))
    for (name, values) in parse(read(configPath)) {
      if name == "default" {
        files.profiles["default"] = values
      } else if name.hasPrefix("profile ") {
        files.profiles[String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces)] = values
      } else if name.hasPrefix("services ") {
        files.services[String(name.dropFirst(9)).trimmingCharacters(in: .whitespaces)] = values
      } else if name.hasPrefix("sso-session ") {
        files.ssoSessions[String(name.dropFirst(12)).trimmingCharacters(in: .whitespaces)] = values
      }
    }
    return files
  }

  private static func read(_ path: String) -> String {
    (try? String(contentsOfFile: (path as NSString).expandingTildeInPath, encoding: .utf8)) ?? ""
  }

  /// Parses INI text: `[section]`, `key = value`, and indented `sub = value` lines under a key with no value.
  static func parse(_ text: String) -> [String: [String: String]] {
    var sections = [String: [String: String]]()
    var section: String?
    var parent: String?
    for rawLine in text.split(whereSeparator: \.isNewline) {
      let line = String(rawLine)
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
      if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
        section = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        sections[section!] = sections[section!] ?? [:]
        parent = nil
        continue
      }
      guard let section, let equals = trimmed.firstIndex(of: "=") else { continue }
      let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
      let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
      if line.first?.isWhitespace == true, let parent {
        sections[section]![parent + "." + key] = value
      } else {
        sections[section]![key] = value
        parent = value.isEmpty ? key : nil
      }
    }
    return sections
  }

  /// A setting of a profile: the config file's value, else the credentials file's.
  public func value(_ key: String, profile: String) -> String? {
    profiles[profile]?[key] ?? credentials[profile]?[key]
  }
}
