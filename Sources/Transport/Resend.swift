import AsyncHTTPClient
import OCI

/// Whether the request path may send a request again after a failure that may pass, and how it learns
/// whether a try whose answer was lost had already done its work. Only `Retries` acts on it.
public struct Resend: Sendable {
  /// Asks the server's state whether a try whose answer was lost did its work: the answer to use in its
  /// place when it did, nil when it did not.
  public typealias Look = @Sendable () async throws -> HTTPClientResponse?

  /// Whether the request may go again as it is: its body is in memory or empty, and a second copy does
  /// no harm by itself.
  public var repeatable: Bool
  /// Asked when a try may have been acted on without its answer arriving.
  public var look: Look?
  /// Whether `look` is asked before any repeat (a request the server refuses once it has acted, such as
  /// finishing an upload), or only when a repeat is refused or the tries run out (a manifest put).
  public var looksFirst: Bool
  /// Reads the answer whole, up to this many bytes, as part of the exchange, so that an answer cut off is
  /// a failure handled like any other.
  public var wholeAnswer: Int?
  /// The tries the request draws on: its operation's (a blob's, shared by every request that moves it), or
  /// nil for a budget of the request's own.
  public var budget: RetryBudget?

  public init(repeatable: Bool, look: Look? = nil, looksFirst: Bool = false, wholeAnswer: Int? = nil) {
    self.repeatable = repeatable
    self.look = look
    self.looksFirst = looksFirst
    self.wholeAnswer = wholeAnswer
  }

  /// Sent once: the body streams, or a second copy could do harm.
  public static let never = Resend(repeatable: false)
  /// Sent again as it is while the budget lasts.
  public static let asIs = Resend(repeatable: true)

  /// Sent again only after `look` finds that no earlier try did the work.
  public static func lookingFirst(_ look: @escaping Look) -> Resend {
    Resend(repeatable: true, look: look, looksFirst: true)
  }

  /// Sent again as it is; `look` settles a refused repeat, or running out of tries, after a lost answer.
  public static func lookingWhenRefused(_ look: @escaping Look) -> Resend {
    Resend(repeatable: true, look: look, looksFirst: false)
  }

  /// The rule for a request by its method: idempotent ones go again as they are, others once.
  public static func byMethod(of request: HTTPClientRequest) -> Resend { request.isIdempotent ? .asIs : .never }

  /// The same rule, drawing on `budget` (nil: a budget of the request's own).
  public func drawing(on budget: RetryBudget?) -> Resend {
    var copy = self
    copy.budget = budget
    return copy
  }

  /// The same rule, reading the answer whole up to `limit` bytes.
  public func readingWhole(upTo limit: Int?) -> Resend {
    var copy = self
    copy.wholeAnswer = limit
    return copy
  }
}
