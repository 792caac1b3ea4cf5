import ArgumentParser
import Foundation
import OCI

/// Runs a command body and turns any failure into one line on stderr and its exit status.
func reportingErrors(_ body: () async throws -> Void) async throws {
  do {
    try await body()
  } catch let error as ValidationError {
    throw error
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
  switch ErrorCategory(of: error) {
  case .notFound: ExitStatus.notFound
  case .unauthorized, .denied: ExitStatus.authentication
  default: ExitStatus.failure
  }
}

/// An error's description on one line. Foundation's file errors, whose descriptions dump their whole user
/// info, become the path and what the system said about it.
func oneLine(_ error: any Error) -> String {
  var text = String(describing: error)
  if let file = error as? CocoaError, let path = file.filePath ?? file.url?.path {
    let cause = (file.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
    let posix = cause.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
    text = "\(path): \(posix ?? cause?.localizedDescription ?? file.localizedDescription)"
  }
  return text.split(whereSeparator: \.isNewline).joined(separator: " ")
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
    let text = argument.trimmingCharacters(in: .whitespaces)
    let digits = text.prefix(while: \.isNumber)
    guard let value = Int(digits) else { return nil }
    let unit = text.dropFirst(digits.count).lowercased()
    let scale: Int
    switch unit {
    case "", "b": scale = 1
    case "k", "kb", "kib": scale = 1 << 10
    case "m", "mb", "mib": scale = 1 << 20
    case "g", "gb", "gib": scale = 1 << 30
    default: return nil
    }
    bytes = value * scale
  }
}

/// `12.3 MB`-style sizes (decimal units, as registries and docker show them).
func formatBytes(_ bytes: Int64) -> String {
  let units = ["B", "kB", "MB", "GB", "TB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1000 && unit < units.count - 1 {
    value /= 1000
    unit += 1
  }
  return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
}

/// Push destinations as written (`REF`, `+TAG`), or a usage error naming the one at fault.
func parsedDestinations(_ texts: [String]) throws -> [(text: String, reference: Reference)] {
  do {
    return try Reference.destinations(texts)
  } catch {
    throw ValidationError(error.description)
  }
}

/// `KEY=VALUE` options as a dictionary (the last of a key wins).
func keyValuePairs(_ items: [String]) -> [String: String] {
  Dictionary(
    items.map { item in
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }, uniquingKeysWith: { _, last in last })
}

/// Refuses `KEY=VALUE` options that have no `=` or no key, naming the option and the item.
func validateKeyValues(_ items: [String], option: String) throws {
  if let bad = items.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
    throw ValidationError("\(option) \(bad): give KEY=VALUE")
  }
}

/// Refuses a `--created` that is not an RFC 3339 time.
func validateTime(_ created: String?) throws {
  if let created, ISO8601DateFormatter().date(from: created) == nil {
    throw ValidationError("--created \(created): not an RFC 3339 time such as 2024-01-01T00:00:00Z")
  }
}
