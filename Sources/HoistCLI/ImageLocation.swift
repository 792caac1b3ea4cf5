import Archives
import Foundation
import OCI
import Registry
import Transfer

/// Where an image is, as `copy` and `pull` name it: a registry reference, or `oci:PATH[:NAME]`,
/// `oci-archive:PATH[:NAME]`, `docker-archive:PATH[:NAME]`, `dir:PATH`, or a path starting with `/`, `./` or
/// `../` (any file hoist reads as a source; as a destination, a `.tar` is a docker archive, else a layout).
enum ImageLocation {
  case registry(Reference)
  case file(path: String, format: OutputFormat, name: String?)

  init(parsing text: String) throws {
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
    var reference = try Reference(parsing: text)
    if reference.tag == nil && reference.digest == nil { reference.tag = "latest" }
    self = .registry(reference)
  }

  /// A registry reference (tag `latest` when none is given); anything else is refused.
  static func registryReference(_ text: String) throws -> Reference {
    guard case .registry(let reference) = try ImageLocation(parsing: text) else {
      throw LocationError(text: text, reason: "name an image in a registry")
    }
    return reference
  }

  var registryHost: String? {
    if case .registry(let reference) = self { return reference.registry }
    return nil
  }
}

/// A location that cannot be used as written.
struct LocationError: CategorizedError, CustomStringConvertible {
  let text: String
  let reason: String
  var description: String { "\(text): \(reason)" }
  var category: ErrorCategory { .invalidInput }
}

extension Connection {
  /// The image source a location names.
  func source(_ location: ImageLocation, platform: PlatformChoice) throws -> any ImageSource {
    switch location {
    case .registry(let reference):
      let client = try client(for: reference.registry, endpoint: reference.endpointHost)
      return RegistrySource(
        client: client, repository: reference.repository,
        reference: reference.digest?.description ?? reference.tag ?? "latest", platform: platform)
    case .file(let path, _, let name):
      // A file's index is taken whole unless a platform was named (as `push` takes it).
      let source = try ArchiveSource.open(path: path, image: name)
      guard case .only(let wanted) = platform else { return source }
      return ChosenPlatform(source, platform: wanted)
    }
  }

  /// A registry source for inspection: the given platform, the whole index, or this machine's platform.
  func registrySource(_ reference: Reference, platform: String?, wholeIndex: Bool) throws -> RegistrySource {
    let choice: PlatformChoice = try platform.map { .only(try Platform(parsing: $0)) } ?? (wholeIndex ? .all : .host)
    return RegistrySource(
      client: try client(for: reference.registry, endpoint: reference.endpointHost), repository: reference.repository,
      reference: reference.digest?.description ?? reference.tag ?? "latest", platform: choice)
  }
}

extension Connection {
  /// The copy target a location names: a registry repository under its tag (by digest only without one), or
  /// a file under its name (else the name `from` gives the image).
  func target(_ location: ImageLocation, naming from: ImageLocation, uncompressedLayers: Bool = false) throws
    -> CopyTarget
  {
    switch location {
    case .registry(let reference):
      let client = try client(for: reference.registry, endpoint: reference.endpointHost)
      return CopyTarget(
        destination: RegistryDestination(
          client: client, repository: reference.repository, chunkSize: RegistryDestination.defaultChunkSize),
        tags: reference.tag.map { [$0] } ?? [])
    case .file(let path, let format, let name):
      let destination = try LayoutDestination(path: path, format: format, uncompressedLayers: uncompressedLayers)
      return CopyTarget(destination: destination, tags: [name ?? Self.defaultName(from)])
    }
  }

  /// The name an image gets in a file when the destination names none: its reference, the name the source
  /// file gives it (chosen, or its only one), or `latest` when it has none.
  static func defaultName(_ location: ImageLocation) -> String {
    switch location {
    case .registry(let reference): return reference.description
    case .file(_, _, let name?): return name
    case .file(let path, _, nil):
      let names = (try? ArchiveSource.imageNames(path: path)) ?? []
      return names.count == 1 ? names[0] : "latest"
    }
  }
}
