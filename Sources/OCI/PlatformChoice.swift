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

  /// The first entry of `index` for this platform.
  public func entry(in index: Index) -> Descriptor? { index.manifests.first { matches($0.platform) } }
}
