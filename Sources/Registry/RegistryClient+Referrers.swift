import AsyncHTTPClient
import Foundation
import OCI

extension RegistryClient {
  /// The manifests the referrers API (`GET /v2/<name>/referrers/<digest>`) lists for `subject`, every
  /// page followed, keeping `artifactType` only when given; nil when the registry has no referrers API
  /// (it answers 404, as distribution 2.8 does).
  public func referrers(repository: String, subject: Digest, artifactType: String?) async throws -> [Descriptor]? {
    var address = url("\(repository)/referrers/\(subject)")
    if let artifactType, let query = artifactType.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
      address += "?artifactType=" + query
    }
    let listed = try await pages(
      from: address, operation: "list referrers of \(host)/\(repository)@\(subject)",
      scope: Self.pullScope(repository), limit: Referrer.maximumPerSubject, absentIf404: true
    ) { try Index.decode($0, what: "referrers of \(host)/\(repository)@\(subject)").manifests }
    return listed.map { all in all.filter { artifactType == nil || $0.artifactType == artifactType } }
  }

  /// The entries of the referrers tag schema's index for `subject` (the tag `sha256-<hex>`), where a
  /// registry without the referrers API keeps them; empty when there is no such tag.
  public func referrersTag(repository: String, subject: Digest, forPush: Bool = false) async throws -> [Descriptor] {
    let tag = Referrer.fallbackTag(of: subject)
    guard let (bytes, _) = try await manifest(repository: repository, reference: tag, forPush: forPush) else {
      return []
    }
    guard DeclaredType(document: bytes)?.isIndex == true else {
      throw RegistryError(
        operation: "read referrers of \(host)/\(repository)@\(subject)", registry: host,
        reason: .protocolViolation(
          "the tag \(tag) holds a manifest, not the referrers index the tag schema puts there; move that tag "
            + "elsewhere so that referrers can be listed under it"))
    }
    return try Index.decode(bytes, what: "\(host)/\(repository):\(tag)").manifests
  }

  /// Lists `referrer` in the referrers tag schema's index for `subject`, for a registry that did not index
  /// it: reads the index under `sha256-<hex>`, adds the entry unless it is there, writes it back keeping
  /// every entry others put there, and reads it back: another writer at the same moment can have replaced
  /// it, and then the merge is made again (up to `mergeAttempts` times).
  public func addToReferrersTag(repository: String, subject: Digest, referrer: Descriptor) async throws {
    let tag = Referrer.fallbackTag(of: subject)
    for _ in 0..<Self.mergeAttempts {
      var entries = try await referrersTag(repository: repository, subject: subject, forPush: true)
      guard !entries.contains(where: { $0.digest == referrer.digest }) else { return }
      entries.append(referrer)
      let index = Index(mediaType: MediaType.ociIndex, manifests: entries)
      _ = try await putManifest(
        repository: repository, reference: tag, bytes: index.encoded(), mediaType: MediaType.ociIndex)
    }
    guard
      try await referrersTag(repository: repository, subject: subject, forPush: true).contains(where: {
        $0.digest == referrer.digest
      })
    else {
      throw RegistryError(
        operation: "list \(referrer.digest) under \(host)/\(repository):\(tag)", registry: host,
        reason: .protocolViolation("other writers replaced the index \(Self.mergeAttempts) times running"))
    }
  }

  /// How often a referrer is merged into the tag schema's index before concurrent writers are given up on.
  static let mergeAttempts = 5
}
