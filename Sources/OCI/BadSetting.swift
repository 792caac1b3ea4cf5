/// A value from a flag, an environment variable, a config file or an answer that hoist cannot use.
public struct BadSetting: CategorizedError, CustomStringConvertible, Equatable {
  /// Where the value came from: `AWS_ENDPOINT_URL_ECR`, `region of profile ci`, `Retry-After`.
  public var name: String
  public var value: String
  /// What would have been accepted.
  public var expected: String

  public init(name: String, value: String, expected: String) {
    (self.name, self.value, self.expected) = (name, value, expected)
  }

  public var description: String {
    let shown =
      value.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(value.unicodeScalars.prefix(80))) + "…" : value
    return "\(name): \(shown.debugDescription) is not \(expected)"
  }

  public var category: ErrorCategory { .invalidInput }
}
