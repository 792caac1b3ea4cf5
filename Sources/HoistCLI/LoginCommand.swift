import ArgumentParser
import Foundation
import Registry

/// `hoist login REGISTRY`: checks credentials and stores them as `docker login` does.
struct LoginCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "login",
    abstract: "Log in to a registry and store the credentials in docker's config.json.",
    discussion: """
      Example:
        echo "$TOKEN" | hoist login registry.example.com --username ci --password-stdin
      """
  )

  @Argument(help: "The registry host, e.g. registry.example.com or localhost:5000.")
  var registry: String

  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if connection.username == nil { throw ValidationError("give --username and --password-stdin") }
  }

  func run() async throws {
    try await reportingErrors {
      let host = registryHost(registry)
      let credentials = try await connection.withConnection(hosts: [host]) { connected in
        let client = try connected.client(for: host, endpoint: host == "docker.io" ? "registry-1.docker.io" : nil)
        try await client.checkLogin()
        return try connected.credentials.credentials(for: host)
      }
      guard let credentials else { return }
      let config = DockerConfigFile.standard()
      try config.store(credentials, for: host)
      printError("Login succeeded; credentials stored in \(config.path)")
    }
  }
}

/// `hoist logout REGISTRY`: forgets stored credentials.
struct LogoutCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "logout",
    abstract: "Remove a registry's credentials from docker's config.json.",
    discussion: "Example:\n  hoist logout registry.example.com"
  )

  @Argument(help: "The registry host.")
  var registry: String

  func run() async throws {
    try await reportingErrors {
      let config = DockerConfigFile.standard()
      let host = registryHost(registry)
      if try config.erase(for: host) {
        printError("Removed the credentials for \(host) from \(config.path)")
      } else {
        printError("Not logged in to \(host)")
      }
    }
  }
}

/// A registry host from what a user typed: a bare host, or a URL.
func registryHost(_ text: String) -> String {
  var host = Substring(text)
  if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
  return String(host.split(separator: "/").first ?? host)
}
