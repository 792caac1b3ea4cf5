import ArgumentParser
import Foundation
import Transfer

/// Runs a command body and turns any failure into one line on stderr and exit status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
  do {
    try await body()
  } catch let error as ValidationError {
    throw error
  } catch let error as ExitCode {
    throw error
  } catch {
    printError("hoist: error: \(oneLine(error))")
    throw ExitCode.failure
  }
}

/// An error's description on one line.
func oneLine(_ error: any Error) -> String {
  String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// Writes a file beside its final name and renames it into place.
func writeAtomically(_ text: String, to path: String) throws {
  let temporary = path + ".hoist-tmp"
  try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
  guard rename(temporary, path) == 0 else {
    try? FileManager.default.removeItem(atPath: temporary)
    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
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

/// Prints the engine's events as plain lines on stderr.
struct ProgressPrinter: Sendable {
  let quiet: Bool
  /// What the blobs undergo: `push` or `pull`.
  var verb = "push"

  var report: @Sendable (ProgressEvent) -> Void {
    let quiet = quiet
    let (doing, done) = (verb + "ing ", verb + "ed  ")
    return { event in
      switch event {
      case _ where quiet: break
      case .notice(let text): printError("note: \(text)")
      case .blobSkipped(let digest, let size): printError("exists   \(digest.short) (\(formatBytes(size)))")
      case .blobStarted(let digest, let size, let compressing):
        printError("\(doing) \(digest.short) (\(formatBytes(size))\(compressing ? ", compressing" : ""))")
      case .blobMounted(let digest, let origin): printError("mounted  \(digest.short) from \(origin)")
      case .blobResumed(let digest, let bytes): printError("resuming \(digest.short) at \(formatBytes(bytes))")
      case .blobDone(let digest, let stored, let sent):
        let renamed = stored == digest ? "" : " as \(stored.short)"
        printError("\(done) \(digest.short)\(renamed) (\(formatBytes(sent)))")
      case .manifestStored(let where_, let digest): printError("manifest \(where_) \(digest.short)")
      }
    }
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
