import Foundation

/// How plans read the small values users write in options: `KEY=VALUE` pairs, times, ports, lists.
public enum PlanInputs {
  /// `KEY=VALUE` items as a dictionary (the last of a key wins).
  public static func pairs(_ items: [String]) -> [String: String] {
    Dictionary(
      items.map { item in
        let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
      }, uniquingKeysWith: { _, last in last })
  }

  /// Refuses `KEY=VALUE` items that have no `=` or no key, naming the option and the item.
  public static func check(pairs items: [String], option: String) throws(PlanError) {
    if let bad = items.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
      throw PlanError("\(option) \(bad): give KEY=VALUE")
    }
  }

  /// Refuses a `--created` that is not an RFC 3339 time.
  public static func check(time created: String?) throws(PlanError) {
    if let created, ISO8601DateFormatter().date(from: created) == nil {
      throw PlanError("--created \(created): not an RFC 3339 time such as 2024-01-01T00:00:00Z")
    }
  }

  /// `80`, `80/tcp` or `53/udp`, written as configs hold it; nil for anything else.
  public static func port(_ text: String) -> String? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard let number = Int(parts[0]), (1...65535).contains(number), parts.count <= 2 else { return nil }
    let proto = parts.count == 2 ? String(parts[1]) : "tcp"
    return ["tcp", "udp", "sctp"].contains(proto) ? "\(number)/\(proto)" : nil
  }

  /// A JSON array of strings, or comma-separated words.
  public static func list(_ text: String) throws(PlanError) -> [String] {
    if text.hasPrefix("[") {
      guard let items = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
        throw PlanError("\(text): not a JSON array of strings")
      }
      return items
    }
    return text.split(separator: ",").map(String.init)
  }

  /// `UID:GID`, both at least 0; nil for anything else.
  public static func owner(_ text: String) -> (uid: Int, gid: Int)? {
    let parts = text.split(separator: ":").compactMap { Int($0) }
    return parts.count == 2 && parts.allSatisfy { $0 >= 0 } ? (parts[0], parts[1]) : nil
  }

  /// `PATH[:DIR]`: the folder or tar, and where a folder's contents go in the image (`/` by default).
  public static func layer(_ item: String) -> (path: String, under: String) {
    guard let colon = item.lastIndex(of: ":"), item[item.index(after: colon)...].hasPrefix("/") else {
      return (item, "/")
    }
    return (String(item[..<colon]), String(item[item.index(after: colon)...]))
  }
}
