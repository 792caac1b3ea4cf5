import AWS
import ArgumentParser
import ECR
import Foundation
import Hoist
import Registry

/// `hoist login REGISTRY`: checks credentials and stores them as `docker login` does.
struct LoginCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "login",
    abstract: "Log in to a registry and store the credentials in docker's config.json.",
    discussion: """
      For an Amazon ECR registry, hoist logs in with the AWS credential chain and stores the 12-hour
      login, so docker and other tools can use it; no user name is needed.

      Examples:
        echo "$TOKEN" | hoist login registry.example.com --username ci --password-stdin
        hoist login 123456789012.dkr.ecr.eu-west-1.amazonaws.com
      """
  )

  @Argument(help: "The registry host, e.g. registry.example.com or localhost:5000.")
  var registry: String

  @OptionGroup var connection: ConnectionOptions

  func run() async throws {
    try await reportingErrors {
      let host = Session.registryHost(registry)
      let credentials = try await connection.withConnection(hosts: [host]) {
        try await $0.login(to: host, userGiven: connection.login.username != nil)
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
      let host = Session.registryHost(registry)
      if try config.erase(for: host) {
        printError("Removed the credentials for \(host) from \(config.path)")
      } else {
        printError("Not logged in to \(host)")
      }
    }
  }
}

/// `hoist ecr get-login-password`: the password `docker login --username AWS` wants.
struct ECRCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ecr", abstract: "Amazon ECR helpers.",
    discussion: "Example:\n  hoist ecr get-login-password --region eu-west-1",
    subcommands: [GetLoginPassword.self])

  struct GetLoginPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "get-login-password",
      abstract: "Print an ECR registry password from the AWS credential chain.",
      discussion: """
        Example:
          hoist ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com
        """
    )

    @Argument(help: "The ECR registry host (default: the caller's own registry in --region).")
    var registry: String?

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
      try await reportingErrors {
        let password = try await connection.withConnection(hosts: []) {
          try await $0.ecrLoginPassword(registry: registry)
        }
        print(password)
      }
    }
  }
}
