import ArgumentParser
import Foundation
import Hoist
import OCI

/// Runs a command body and turns any failure into one line on stderr and its exit status.
func reportingErrors(_ body: () async throws -> Void) async throws {
  do {
    try await body()
  } catch let error as ValidationError {
    throw error
  } catch let error as PlanError {
    throw ValidationError(error.description)
  } catch let error as ExitCode {
    throw error
  } catch {
    if Task.isCancelled {
      printError("hoist: interrupted; uploads cancelled, partial downloads kept for the next run")
      throw ExitStatus.failure
    }
    printError("hoist: error: \(oneLine(error))")
    throw exitCode(for: error)
  }
}

/// Runs a plan's checks before anything else, turning a refusal into a usage error; other failures (a
/// location that does not parse, a file that is not there) are left for the run to report in one line.
func usage(_ check: () throws -> Void) throws {
  do {
    try check()
  } catch let error as PlanError {
    throw ValidationError(error.description)
  } catch {
    return
  }
}

/// The documented exit statuses beyond success and usage errors (sysexits.h numbers).
enum ExitStatus {
  static let failure = ExitCode(1)
  /// A file, image, repository or platform that is not there.
  static let notFound = ExitCode(66)
  /// Credentials missing, refused, or without the permission needed.
  static let authentication = ExitCode(77)
}

/// Which documented status an error ends the run with, by its category.
func exitCode(for error: any Error) -> ExitCode {
  switch error {
  case is BadSetting, OCIError.invalidReference, OCIError.invalidPlatform: return .validationFailure
  default: break
  }
  return switch ErrorCategory(of: error) {
  case .notFound: ExitStatus.notFound
  case .unauthorized, .denied: ExitStatus.authentication
  default: ExitStatus.failure
  }
}

/// Writes a file beside its final name and renames it into place.
func writeAtomically(_ text: String, to path: String) throws {
  let temporary = path + ".hoist-tmp"
  try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
  guard rename(temporary, path) == 0 else {
    let cause = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    try? FileManager.default.removeItem(atPath: temporary)
    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: cause])
  }
}

/// A size in bytes given as `8388608`, `8MiB`, `8M`, `512KiB`.
struct ByteCount: ExpressibleByArgument {
  var bytes: Int

  init(bytes: Int) { self.bytes = bytes }

  init?(argument: String) {
    guard let bytes = ByteSize.parse(argument) else { return nil }
    self.bytes = bytes
  }
}
