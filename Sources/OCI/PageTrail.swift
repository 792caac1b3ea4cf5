/// The pages of one listing asked for so far (registry `Link` URLs, AWS `nextToken`s), so that a server
/// whose next page points back at one already read, or that never stops, ends the listing with an error
/// instead of a loop.
public struct PageTrail: Sendable {
  private var seen = Set<String>()
  /// The most pages one listing may have.
  public let limit: Int

  public init(limit: Int = 10_000) { self.limit = limit }

  /// Notes that `page` is asked for next; throws if it was asked for before or the listing is too long.
  public mutating func visit(_ page: String, listing: String) throws(PaginationError) {
    guard seen.insert(page).inserted else {
      throw PaginationError(listing: listing, reason: "its next page repeats one already read")
    }
    guard seen.count <= limit else {
      throw PaginationError(listing: listing, reason: "it has more than \(limit) pages")
    }
  }
}

/// A listing whose pages do not end.
public struct PaginationError: CategorizedError, CustomStringConvertible, Equatable {
  public var listing: String
  public var reason: String

  public var description: String { "\(listing): \(reason); stopped" }
  public var category: ErrorCategory { .protocolViolation }
}
