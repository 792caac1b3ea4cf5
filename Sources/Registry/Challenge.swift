/// A parsed `WWW-Authenticate` challenge (RFC 7235): a scheme and its parameters.
public struct Challenge: Equatable, Sendable {
  /// The scheme, lowercased: `basic` or `bearer`.
  public var scheme: String
  /// Parameters with lowercased names: `realm`, `service`, `scope`, `error`.
  public var parameters: [String: String]

  /// Parses the first challenge in a header value; nil when there is none.
  public init?(header: String) {
    var scanner = Substring(header).drop(while: \.isWhitespace)
    let scheme = scanner.prefix(while: { !$0.isWhitespace && $0 != "," })
    guard !scheme.isEmpty else { return nil }
    self.scheme = scheme.lowercased()
    scanner = scanner.dropFirst(scheme.count)
    var parameters = [String: String]()
    while true {
      scanner = scanner.drop(while: { $0.isWhitespace || $0 == "," })
      let name = scanner.prefix(while: { $0 != "=" && !$0.isWhitespace && $0 != "," })
      guard !name.isEmpty else { break }
      scanner = scanner.dropFirst(name.count).drop(while: \.isWhitespace)
      guard scanner.first == "=" else { break }
      scanner = scanner.dropFirst().drop(while: \.isWhitespace)
      var value = ""
      if scanner.first == "\"" {
        scanner = scanner.dropFirst()
        var escaped = false
        while let c = scanner.first {
          scanner = scanner.dropFirst()
          if escaped {
            value.append(c)
            escaped = false
          } else if c == "\\" {
            escaped = true
          } else if c == "\"" {
            break
          } else {
            value.append(c)
          }
        }
      } else {
        value = String(scanner.prefix(while: { $0 != "," && !$0.isWhitespace }))
        scanner = scanner.dropFirst(value.count)
      }
      parameters[name.lowercased()] = value
    }
    self.parameters = parameters
  }
}
