import Foundation
import Streams

/// ECR registry logins kept on disk between runs (a 0600 file in a 0700 folder), keyed by the identity
/// that obtained them: registry account, region, and the role or access key (hashed) of the credentials.
/// A login is used until half its life has passed.
public struct ECRTokenCache: Sendable {
  public let file: URL

  public init(file: URL) { self.file = file }

  struct Entry: Codable {
    var token: ECRClient.AuthorizationToken
    var issuedAt: Date
  }

  /// The cache key: never a secret, and different for different identities.
  public static func key(host: ECRHost, credentials: AWSCredentials) -> String {
    let identity =
      credentials.roleARN
      ?? "key-" + String(hex(SHA256Hasher.hash(Array(credentials.accessKeyID.utf8))).prefix(16))
    return [host.isPublic ? "public" : host.account, host.region, identity].joined(separator: "|")
  }

  /// A stored login still in the first half of its life.
  public func token(for key: String, now: Date = Date()) -> ECRClient.AuthorizationToken? {
    guard let entry = load()[key] else { return nil }
    let halfLife = entry.issuedAt.addingTimeInterval(entry.token.expiresAt.timeIntervalSince(entry.issuedAt) / 2)
    return now < halfLife ? entry.token : nil
  }

  /// Stores a login; one that expires within a minute (moto's lie in the past, for one) is not kept.
  public func store(_ token: ECRClient.AuthorizationToken, for key: String, now: Date = Date()) {
    guard token.expiresAt > now.addingTimeInterval(60) else { return }
    var entries = load().filter { $0.value.token.expiresAt > now }
    entries[key] = Entry(token: token, issuedAt: now)
    let folder = file.deletingLastPathComponent()
    try? FileManager.default.createDirectory(
      at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    guard let data = try? JSONEncoder().encode(entries) else { return }
    let temporary = folder.appendingPathComponent(".\(file.lastPathComponent).\(getpid())")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
    else { return }
    if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
  }

  private func load() -> [String: Entry] {
    guard let data = try? Data(contentsOf: file) else { return [:] }
    return (try? JSONDecoder().decode([String: Entry].self, from: data)) ?? [:]
  }
}
