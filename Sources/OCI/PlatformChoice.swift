import Foundation

/// Which platform of a multi-platform image to take.
public enum PlatformChoice: Sendable, Equatable {
  /// The platform hoist runs on.
  case host
  /// One given platform.
  case only(Platform)
  /// The whole index, digests unchanged.
  case all

  /// The platform of this machine, as image indexes name it.
  public static var hostPlatform: Platform {
    #if arch(arm64)
      Platform(os: "linux", architecture: "arm64", variant: "v8")
    #elseif arch(arm)
      Platform(os: "linux", architecture: "arm", variant: "v7")
    #else
      Platform(os: "linux", architecture: "amd64")
    #endif
  }

  /// The platform wanted from an index; nil for the whole index.
  public var wanted: Platform? {
    switch self {
    case .all: nil
    case .host: Self.hostPlatform
    case .only(let given): given
    }
  }
}

extension Platform {
  /// Whether an index entry's platform is this one (a missing variant here matches any).
  public func matches(_ candidate: Platform?) -> Bool {
    guard let candidate, candidate.os == os, candidate.architecture == architecture else { return false }
    guard let variant else { return true }
    return candidate.variant == variant || (candidate.variant == nil && variant == "v8")
  }

  /// The first image of `index` for this platform (a SOCI index beside it shares its platform).
  public func entry(in index: Index) -> Descriptor? {
    index.manifests.first { matches($0.platform) && !SociIndex.isIndexEntry($0) }
  }
}

/// An index has no image of the platform asked for.
public struct MissingPlatform: CategorizedError, CustomStringConvertible {
  public var source: String
  public var wanted: String
  public var available: [String]

  public init(source: String, wanted: String, available: [String]) {
    (self.source, self.wanted, self.available) = (source, wanted, available)
  }

  public var description: String {
    "\(source) has no \(wanted) image; it has: \(available.isEmpty ? "no platforms listed" : available.joined(separator: ", "))"
  }

  public var category: ErrorCategory { .notFound }
}

extension ImageSource {
  /// `root` as it is when it is a single image or no platform is wanted; else its index's entry for
  /// `wanted`, read from this source, with a notice saying which was chosen.
  public func choosing(_ wanted: Platform?, from root: RootDocument) async throws -> RootDocument {
    guard let wanted, DeclaredType(document: root.bytes)?.isIndex == true else { return root }
    let index = try Index.decode(root.bytes, what: "\(self): index \(root.descriptor.digest)")
    guard let child = wanted.entry(in: index) else {
      throw MissingPlatform(
        source: description, wanted: wanted.description,
        available: index.manifests.compactMap { $0.platform?.description })
    }
    let descriptor = Descriptor(mediaType: child.mediaType, digest: child.digest, size: child.size)
    return RootDocument(
      descriptor: descriptor, bytes: try await document(child),
      notices: root.notices + ["chose \(wanted) from the index"])
  }
}
