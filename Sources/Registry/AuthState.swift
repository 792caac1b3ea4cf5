import Foundation

/// What a client knows about authenticating with its registry: the challenge it answered,
/// and Bearer tokens per scope until they expire.
actor AuthState {
  let credentials: RegistryCredentials?
  private(set) var challenge: Challenge?
  private var pinged = false
  private var tokens = [String: (token: String, expires: Date)]()

  init(credentials: RegistryCredentials?) {
    self.credentials = credentials
  }

  var hasCredentials: Bool { credentials != nil }

  func setChallenge(_ challenge: Challenge) {
    self.challenge = challenge
    pinged = true
  }

  func markPinged() { pinged = true }
  var needsPing: Bool { !pinged }

  func forget(scope: String?) { tokens[scope ?? ""] = nil }

  func token(scope: String?) -> String? {
    guard let cached = tokens[scope ?? ""], cached.expires > Date() else { return nil }
    return cached.token
  }

  func store(token: String, scope: String?, lifetime: TimeInterval) {
    tokens[scope ?? ""] = (token, Date().addingTimeInterval(max(lifetime - 10, 5)))
  }
}
