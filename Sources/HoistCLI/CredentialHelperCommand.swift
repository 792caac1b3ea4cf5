import AWS
import Foundation
import Registry
import Transport

/// `docker-credential-hoist`: the Docker credential-helper protocol for Amazon ECR registries, so that
/// `"credHelpers": {"<registry>": "hoist"}` makes docker, skopeo and crane log in through hoist.
///
/// `get` reads a server URL on stdin and answers `{"ServerURL","Username","Secret"}` as
/// amazon-ecr-credential-helper does; `list` answers `{}`; `store` and `erase` accept and ignore their
/// input (ECR logins are made, not stored).
public enum CredentialHelperCommand {
  /// Runs the helper with the process's arguments and exits.
  public static func runMain() async {
    let arguments = CommandLine.arguments.dropFirst()
    switch arguments.first {
    case "get":
      do {
        print(try await get(serverURL: readPasswordFromStdin()))
        exit(0)
      } catch {
        print(oneLine(error))
        exit(1)
      }
    case "list":
      print("{}")
    case "store", "erase":
      _ = FileHandle.standardInput.readDataToEndOfFile()
    case "version", "--version":
      print("docker-credential-hoist")
    default:
      printError("usage: docker-credential-hoist get|list|store|erase (the server URL or JSON on stdin)")
      exit(2)
    }
    exit(0)
  }

  static func get(serverURL: String) async throws -> String {
    let host = registryHost(serverURL.trimmingCharacters(in: .whitespacesAndNewlines))
    guard let ecrHost = ECRHost(host: host) else { throw HelperError.notFound }
    let environment = ProcessInfo.processInfo.environment
    var options = TransportOptions()
    options.trustStoreFile = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    options.proxies = ProxySettings(environment: environment)
    let transport = try HTTPTransport(options: options)
    let access = ECRAccess(
      host: ecrHost, registry: host,
      session: AWSSession(environment: AWSEnvironment(variables: environment), http: AWSHTTP(transport: transport)),
      cache: ecrLoginCache(disabled: false))
    let token: ECRClient.AuthorizationToken
    do {
      token = try await access.login()
      await transport.shutdown()
    } catch {
      await transport.shutdown()
      throw error
    }
    let answer = [
      "ServerURL": serverURL.trimmingCharacters(in: .whitespacesAndNewlines), "Username": token.username,
      "Secret": token.password,
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys]), as: UTF8.self)
  }

  enum HelperError: Error, CustomStringConvertible {
    case notFound
    /// Docker takes this exact message as "no credentials here".
    var description: String { "credentials not found in native keychain" }
  }
}
