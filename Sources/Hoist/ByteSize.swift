import Foundation

/// Sizes as flags give them: a whole number with an optional unit (`b`, `k`/`kb`/`kib`, `m`/`mb`/`mib`,
/// `g`/`gb`/`gib`, any case; all binary), up to `largest`.
public enum ByteSize {
  /// The largest size accepted: 1 TiB, far above any chunk, span or file hoist handles in one piece.
  public static let largest = 1 << 40

  /// The bytes `text` names; nil when it names none, or more than `largest`.
  public static func parse(_ text: String) -> Int? {
    let text = text.trimmingCharacters(in: .whitespaces)
    let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
    guard let value = Int(digits) else { return nil }
    let scale: Int
    switch text.dropFirst(digits.count).lowercased() {
    case "", "b": scale = 1
    case "k", "kb", "kib": scale = 1 << 10
    case "m", "mb", "mib": scale = 1 << 20
    case "g", "gb", "gib": scale = 1 << 30
    default: return nil
    }
    let (product, overflow) = value.multipliedReportingOverflow(by: scale)
    guard !overflow, product <= largest else { return nil }
    return product
  }
}
