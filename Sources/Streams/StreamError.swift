import OCI

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What went wrong while reading files and archives.
public enum StreamError: CategorizedError, CustomStringConvertible {
  /// The file could not be opened or read.
  case io(path: String, operation: String, errno: Int32)
  /// The file is not an archive libarchive recognises, or is damaged.
  case badArchive(path: String, reason: String)
  /// An archive member is not what its name promised.
  case badMember(path: String, member: String, reason: String)

  public var description: String {
    switch self {
    case .io(let path, let operation, let code):
      "\(path): \(operation) failed: \(String(cString: strerror(code)))"
    case .badArchive(let path, let reason): "\(path): \(reason)"
    case .badMember(let path, let member, let reason): "\(path): member \(member): \(reason)"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .io(_, _, let code): code == ENOENT ? .notFound : .local
    case .badArchive, .badMember: .invalidInput
    }
  }
}
