import Archives
import Foundation
import OCI
import Registry
import Transfer

/// Where an image is, as `copy` and `pull` name it: a registry reference, or `oci:PATH[:NAME]`,
/// `oci-archive:PATH[:NAME]`, `docker-archive:PATH[:NAME]`, `dir:PATH`, or a path starting with `/`, `./` or
/// `../` (any file hoist reads as a source; as a destination, a `.tar` is a docker archive, else a layout).
/// Every command parses locations here, once.
public enum ImageLocation: Sendable, Equatable {
  /// A registry reference, with a tag or digest.
  case registry(Reference)
  /// A file or folder in `format`, and the name of the image in it, if given.
  case file(path: String, format: OutputFormat, name: String?)

  /// Parses a location as the user wrote it; a registry reference without tag or digest gets `latest`.
  public init(parsing text: String) throws {
    for format in OutputFormat.allCases where text.hasPrefix(format.rawValue + ":") {
      let rest = text.dropFirst(format.rawValue.count + 1)
      let parts = rest.split(separator: ":", maxSplits: 1).map(String.init)
      guard let path = parts.first, !path.isEmpty else {
        throw LocationError(text: text, reason: "no path after \(format.rawValue):")
      }
      self = .file(path: path, format: format, name: parts.count > 1 ? parts[1] : nil)
      return
    }
    if text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("../") {
      // A path as written: the format follows from what is there (a source) or from its name (a destination).
      self = .file(path: text, format: OutputFormat.implied(by: text), name: nil)
      return
    }
    self = .registry(try Reference(parsing: text).tagged)
  }

  /// A registry reference (tag `latest` when none is given); anything else is refused.
  public static func registryReference(_ text: String) throws -> Reference {
    guard case .registry(let reference) = try ImageLocation(parsing: text) else {
      throw LocationError(text: text, reason: "name an image in a registry")
    }
    return reference
  }

  /// The registry host, for a registry location.
  public var registryHost: String? {
    if case .registry(let reference) = self { return reference.registry }
    return nil
  }

  /// Whether the location is a registry reference by digest, whose digest must then stay.
  public var namesDigest: Bool {
    if case .registry(let reference) = self { return reference.digest != nil }
    return false
  }

  /// Whether the location is a `dir:` folder, which holds one image and no referrers.
  public var isDirFolder: Bool {
    if case .file(_, .dir, _) = self { return true }
    return false
  }
}

/// A location that cannot be used as written.
public struct LocationError: CategorizedError, CustomStringConvertible {
  public let text: String
  public let reason: String
  public var description: String { "\(text): \(reason)" }
  public var category: ErrorCategory { .invalidInput }
}
