import OCI

/// A combination of options or inputs a plan refuses, saying what to do instead.
public struct PlanError: CategorizedError, CustomStringConvertible, Equatable {
  public let description: String

  public init(_ description: String) { self.description = description }

  public var category: ErrorCategory { .invalidInput }
}
