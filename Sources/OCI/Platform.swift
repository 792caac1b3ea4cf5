/// The platform an image runs on, as an index entry names it.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
  public var architecture: String
  public var os: String
  public var variant: String?
  public var osVersion: String?
  public var osFeatures: [String]?

  enum CodingKeys: String, CodingKey {
    case architecture, os, variant
    case osVersion = "os.version"
    case osFeatures = "os.features"
  }

  public init(os: String, architecture: String, variant: String? = nil) {
    self.os = os
    self.architecture = architecture
    self.variant = variant
  }

  /// Parses `os/arch[/variant]`.
  public init(parsing text: String) throws(OCIError) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
      throw .invalidPlatform(text)
    }
    self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
  }

  public var description: String {
    [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
  }
}
