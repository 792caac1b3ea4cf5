import Foundation
import OCI
import Streams

/// A repository in a registry, as the source of a copy: the manifest under a tag or digest, resolved
/// to one platform unless the whole index is wanted.
public struct RegistrySource: ImageSource {
  public let client: RegistryClient
  public let repository: String
  /// A tag or a digest.
  public let reference: String
  public let platform: PlatformChoice
  /// The tries blob reads draw on (`drawing(on:)`: a blob's); nil gives each read its own.
  private(set) var budget: RetryBudget?

  public init(client: RegistryClient, repository: String, reference: String, platform: PlatformChoice) {
    self.client = client
    self.repository = repository
    self.reference = reference
    self.platform = platform
  }

  public var description: String {
    "\(client.host)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
  }

  public func drawing(on budget: RetryBudget) -> any ImageSource {
    var copy = self
    copy.budget = budget
    return copy
  }

  public func root() async throws -> RootDocument {
    guard let (bytes, servedType) = try await client.manifest(repository: repository, reference: reference) else {
      throw SourceError.notFound(description)
    }
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
    if let expected = try? Digest(reference), expected != digest {
      throw SourceError.digestMismatch(description, actual: digest)
    }
    let mediaType = Self.mediaType(served: servedType, bytes: bytes)
    let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    return try await choosing(platform.wanted, from: RootDocument(descriptor: descriptor, bytes: bytes))
  }

  public func document(_ descriptor: Descriptor) async throws -> Data {
    guard descriptor.size <= Int64(maximumDocumentSize) else {
      throw SourceError.tooLarge(description, digest: descriptor.digest, size: descriptor.size)
    }
    let data: Data
    if MediaType.isIndex(descriptor.mediaType) || MediaType.isManifest(descriptor.mediaType) {
      guard let found = try await client.manifest(repository: repository, reference: descriptor.digest.description)
      else { throw SourceError.notFound("\(client.host)/\(repository)@\(descriptor.digest)") }
      data = found.bytes
    } else {
      data = try await client.blob(repository: repository, digest: descriptor.digest, limit: Int(descriptor.size))
    }
    let actual = Digest(sha256Bytes: SHA256Hasher.hash(data))
    guard actual == descriptor.digest, Int64(data.count) == descriptor.size else {
      throw SourceError.digestMismatch("\(client.host)/\(repository)@\(descriptor.digest)", actual: actual)
    }
    return data
  }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await client.openBlob(repository: repository, digest: descriptor.digest, budget: budget)
  }

  public var mountOrigin: MountOrigin? { MountOrigin(registry: client.host, repository: repository) }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    try await client.openBlob(repository: repository, digest: descriptor.digest, offset: offset, budget: budget)
  }

  /// The referrers API's list (else the referrers tag schema's index), then cosign's tags beside the
  /// subject (`sha256-<hex>.sig`, `.att`, `.sbom`).
  public func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer] {
    var listed = try await client.referrers(repository: repository, subject: subject, artifactType: artifactType)
    if listed == nil { listed = try await client.referrersTag(repository: repository, subject: subject) }
    var found = (listed ?? []).map { Referrer(descriptor: $0) }
    for suffix in Referrer.cosignSuffixes {
      let tag = Referrer.fallbackTag(of: subject) + suffix
      guard let (bytes, served) = try await client.manifest(repository: repository, reference: tag) else { continue }
      let digest = Digest(sha256Bytes: SHA256Hasher.hash(bytes))
      found.append(
        Referrer.tagged(bytes, mediaType: Self.mediaType(served: served, bytes: bytes), digest: digest, tag: tag))
    }
    return found
  }

  /// The media type of served manifest bytes: the document's own field, else the `Content-Type`.
  public static func mediaType(served: String, bytes: Data) -> String {
    struct Probe: Decodable { var mediaType: String? }
    return (try? JSONDecoder().decode(Probe.self, from: bytes))?.mediaType ?? served
  }
}

/// What went wrong reading an image from a registry.
public enum SourceError: CategorizedError, CustomStringConvertible {
  case notFound(String)
  case digestMismatch(String, actual: Digest)
  case tooLarge(String, digest: Digest, size: Int64)

  public var description: String {
    switch self {
    case .notFound(let what): "\(what): no such image"
    case .digestMismatch(let what, let actual): "\(what): the registry served content that hashes to \(actual)"
    case .tooLarge(let what, let digest, let size): "\(what): \(digest) claims \(size) bytes, over the 4 MiB limit"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .notFound: .notFound
    case .digestMismatch, .tooLarge: .protocolViolation
    }
  }
}
