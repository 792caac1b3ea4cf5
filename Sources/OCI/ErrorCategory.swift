/// What kind of failure an error is, which is all that exit statuses, retry decisions and upload cleanup
/// look at: never an error's message, never its type.
public enum ErrorCategory: Sendable, Equatable {
  /// A file, image, repository, tag, blob or platform that is not there.
  case notFound
  /// Credentials missing, refused or expired.
  case unauthorized
  /// Credentials accepted, but without the permission needed.
  case denied
  /// May not happen again if the same thing is tried a little later: a dropped connection, a 5xx.
  case transient
  /// The server asked for a slower pace (a 429, an AWS throttling code): worth trying again, from the
  /// throttles' own allowance (`RetryPolicy.throttledAttempts`).
  case throttled
  /// What the user gave (arguments, files, images) cannot be used as it is.
  case invalidInput
  /// The server refused the request for a reason that will not pass (an invalid manifest, an immutable tag).
  case rejected
  /// The other side broke the protocol: wrong digests, missing headers, answers that make no sense.
  case protocolViolation
  /// The work was stopped (Ctrl-C, a sibling task's failure).
  case cancelled
  /// Something on this machine failed: a file that cannot be written, a full disk.
  case local

  /// The category of any error: its own where it says, cancellation as such, anything else as local.
  public init(of error: any Error) {
    switch error {
    case let error as CategorizedError: self = error.category
    case is CancellationError: self = .cancelled
    default: self = .local
    }
  }

  /// Worth trying again.
  public var isTransient: Bool { self == .transient || self == .throttled }
}

/// An error that says which kind of failure it is.
public protocol CategorizedError: Error {
  var category: ErrorCategory { get }
}

extension OCIError: CategorizedError {
  public var category: ErrorCategory { .invalidInput }
}
