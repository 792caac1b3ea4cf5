import OCI

/// What went wrong while reading an image out of a file or folder.
public enum ArchiveError: CategorizedError, CustomStringConvertible {
  /// Nothing is at the path.
  case missing(path: String)
  /// The path holds neither a `docker save` tarball nor an OCI layout.
  case unrecognized(path: String, reason: String)
  /// Something the image's metadata names is missing or wrong.
  case invalid(path: String, reason: String)
  /// The archive holds several images and none was chosen.
  case ambiguous(path: String, candidates: [String])
  /// `--image` named an image the archive does not hold.
  case notFound(path: String, image: String, candidates: [String])
  /// A blob's bytes do not match what its descriptor claims.
  case blobMismatch(path: String, digest: Digest, reason: String)

  public var description: String {
    switch self {
    case .missing(let path): "\(path): no such file or directory"
    case .unrecognized(let path, let reason): "\(path): \(reason)"
    case .invalid(let path, let reason): "\(path): \(reason)"
    case .ambiguous(let path, let candidates):
      "\(path) holds \(candidates.count) images; choose one with --image: \(candidates.joined(separator: ", "))"
    case .notFound(let path, let image, let candidates):
      "\(path) has no image \(image); it holds: \(candidates.isEmpty ? "no named images" : candidates.joined(separator: ", "))"
    case .blobMismatch(let path, let digest, let reason): "\(path): blob \(digest): \(reason)"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .missing, .notFound: .notFound
    case .unrecognized, .invalid, .ambiguous, .blobMismatch: .invalidInput
    }
  }
}
