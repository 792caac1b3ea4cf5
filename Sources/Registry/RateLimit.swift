import Foundation
import NIOHTTP1

/// A registry's pull limit as its answers state it: Docker Hub's `RateLimit-Limit: 100;w=21600`,
/// `RateLimit-Remaining: 76;w=21600` and `Docker-RateLimit-Source`, or the IETF draft's `RateLimit-Limit`,
/// `RateLimit-Remaining` and `RateLimit-Reset`. A value that is not a whole number from 0 is ignored.
public struct RateLimit: Sendable, Equatable, Codable {
  /// Requests the window allows.
  public var limit: Int?
  /// Requests left in the window.
  public var remaining: Int?
  /// How long the window is, in seconds (`;w=`).
  public var windowSeconds: Int?
  /// Seconds until the window starts again (`RateLimit-Reset`).
  public var resetSeconds: Int?
  /// What the registry counts against: Docker Hub's client address or account.
  public var source: String?

  public init(
    limit: Int? = nil, remaining: Int? = nil, windowSeconds: Int? = nil, resetSeconds: Int? = nil,
    source: String? = nil
  ) {
    (self.limit, self.remaining, self.windowSeconds) = (limit, remaining, windowSeconds)
    (self.resetSeconds, self.source) = (resetSeconds, source)
  }

  /// The limit the headers state; nil when they state none.
  public init?(headers: HTTPHeaders) {
    let limit = headers.first(name: "RateLimit-Limit").map(Self.counted)
    let remaining = headers.first(name: "RateLimit-Remaining").map(Self.counted)
    let reset = headers.first(name: "RateLimit-Reset").flatMap { Self.whole($0) }
    let source = headers.first(name: "Docker-RateLimit-Source").map { String($0.prefix(200)) }
    guard limit?.count != nil || remaining?.count != nil else { return nil }
    self.init(
      limit: limit?.count, remaining: remaining?.count, windowSeconds: limit?.window ?? remaining?.window,
      resetSeconds: reset, source: source)
  }

  /// `76;w=21600`: the count and, when given, the window.
  private static func counted(_ value: String) -> (count: Int?, window: Int?) {
    let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    let window = parts.dropFirst().first { $0.lowercased().hasPrefix("w=") }.flatMap { whole(String($0.dropFirst(2))) }
    return (parts.first.flatMap { whole($0) }, window)
  }

  /// A whole number from 0 up to a year's seconds, or nil.
  private static func whole(_ text: String) -> Int? {
    guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (0...31_536_000).contains(value) else {
      return nil
    }
    return value
  }

  /// `76 of 100 left in a 21600 s window, resets in 50 s, counted for 1.2.3.4`.
  public var summary: String {
    var text = "\(remaining.map(String.init) ?? "?") of \(limit.map(String.init) ?? "?") left"
    if let windowSeconds { text += " in a \(windowSeconds) s window" }
    if let resetSeconds { text += ", resets in \(resetSeconds) s" }
    if let source { text += ", counted for \(source)" }
    return text
  }
}
