import Foundation

/// An AWS access key, with its session token and expiry when temporary.
public struct AWSCredentials: Sendable, Equatable {
  public var accessKeyID: String
  public var secretAccessKey: String
  public var sessionToken: String?
  public var expiration: Date?
  /// The role these credentials act as, when they came from assuming one (for cache keys and messages).
  public var roleARN: String?
  /// Where they came from, e.g. `environment`, `profile dev`, `web identity` (never secret).
  public var source: String

  public init(
    accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
    roleARN: String? = nil, source: String
  ) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
    self.expiration = expiration
    self.roleARN = roleARN
    self.source = source
  }
}
