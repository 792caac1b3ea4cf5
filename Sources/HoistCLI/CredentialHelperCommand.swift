import Foundation
import Hoist
import OCI

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
    let settings = try ConnectionOptions.parse([]).settings
    guard let answer = try await CredentialHelperAnswer.answer(serverURL: serverURL, settings: settings) else {
      throw HelperError.notFound
    }
    return try answer.json()
  }

  enum HelperError: CategorizedError, CustomStringConvertible {
    case notFound
    /// Docker takes this exact message as "no credentials here".
    var description: String { "credentials not found in native keychain" }
    var category: ErrorCategory { .notFound }
  }
}
