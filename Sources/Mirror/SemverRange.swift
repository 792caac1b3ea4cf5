/// A range of versions as skopeo sync's `images-by-semver` writes it (Masterminds/semver constraints):
/// comparisons `=`, `!=`, `>`, `>=`, `<`, `<=`, `~` (same minor), `^` (same major, or minor below 1.0) and
/// wildcards (`1.2.x`, `1.*`), joined by commas or spaces (all must hold) and `||` (either side).
/// Tags that are not versions, and pre-releases (`1.2.3-rc1`), are never in a range.
public struct SemverRange: Sendable, Equatable {
  /// A version read from a tag: `1`, `1.2`, `v1.2.3`.
  public struct Version: Comparable, Sendable {
    var parts: [Int]

    public init?(_ tag: String) {
      var text = Substring(tag)
      if text.hasPrefix("v") { text = text.dropFirst() }
      let numbers = text.split(separator: ".", omittingEmptySubsequences: false)
      guard (1...3).contains(numbers.count), numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) })
      else { return nil }
      parts = numbers.compactMap { Int($0) } + Array(repeating: 0, count: 3 - numbers.count)
    }

    init(_ parts: [Int]) { self.parts = parts }

    public static func < (a: Version, b: Version) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
  }

  /// One comparison: the versions from `lower` (included) to `upper` (excluded), or all but one.
  struct Bound: Sendable, Equatable {
    var lower: [Int]?
    var upper: [Int]?
    var excluded: [Int]?

    func contains(_ version: Version) -> Bool {
      if let lower, version < Version(lower) { return false }
      if let upper, version >= Version(upper) { return false }
      if let excluded, version == Version(excluded) { return false }
      return true
    }
  }

  /// Alternatives, each a list of bounds that must all hold.
  let alternatives: [[Bound]]

  /// Parses a range; nil when it is not one.
  public init?(_ text: String) {
    var alternatives = [[Bound]]()
    for alternative in text.components(separatedBy: "||") {
      var bounds = [Bound]()
      var pending = ""
      for token in alternative.replacingOccurrences(of: ",", with: " ").split(separator: " ") {
        // An operator written apart from its version (">= 1.2") joins the next token.
        if token.allSatisfy({ "<>=!~^".contains($0) }) {
          pending += token
          continue
        }
        guard let bound = Self.bound(pending + token) else { return nil }
        bounds.append(bound)
        pending = ""
      }
      guard pending.isEmpty, !bounds.isEmpty else { return nil }
      alternatives.append(bounds)
    }
    self.alternatives = alternatives
  }

  public func contains(_ version: Version) -> Bool {
    alternatives.contains { bounds in bounds.allSatisfy { $0.contains(version) } }
  }

  private static func bound(_ comparison: String) -> Bound? {
    let operators = [">=", "<=", "!=", ">", "<", "=", "~", "^"]
    let op = operators.first { comparison.hasPrefix($0) } ?? ""
    var text = String(comparison.dropFirst(op.count))
    if text.hasPrefix("v") { text.removeFirst() }
    let pieces = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard (1...3).contains(pieces.count) else { return nil }
    // The numbers given before any wildcard.
    var given = [Int]()
    for piece in pieces {
      if ["x", "X", "*"].contains(piece) { break }
      guard let number = Int(piece), number >= 0 else { return nil }
      given.append(number)
    }
    if given.isEmpty { return op.isEmpty || op == "=" ? Bound() : nil }
    let full = given + Array(repeating: 0, count: 3 - given.count)
    /// The first version past everything that starts with the first `count` numbers given.
    func next(_ count: Int) -> [Int] {
      var parts = Array(full.prefix(count)) + Array(repeating: 0, count: 3 - count)
      parts[count - 1] += 1
      return parts
    }
    let wildcard = given.count < 3
    switch op {
    case "", "=":
      return wildcard ? Bound(lower: full, upper: next(given.count)) : Bound(lower: full, upper: next(3))
    case "!=": return wildcard ? nil : Bound(excluded: full)
    case ">": return Bound(lower: wildcard ? next(given.count) : next(3))
    case ">=": return Bound(lower: full)
    case "<": return Bound(upper: full)
    case "<=": return Bound(upper: wildcard ? next(given.count) : next(3))
    case "~": return Bound(lower: full, upper: next(min(2, given.count)))
    default:
      let significant = full.firstIndex { $0 != 0 }.map { $0 + 1 } ?? given.count
      return Bound(lower: full, upper: next(min(significant, max(given.count, 1))))
    }
  }
}
