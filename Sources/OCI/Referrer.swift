import Foundation

/// A manifest that refers to an image (OCI 1.1): a signature, an SBOM, an attestation. It names the image
/// in its `subject`, or, from older cosign, sits under a tag named after the image's digest.
public struct Referrer: Sendable, Hashable {
  /// The referrer's manifest, described as the referrers API lists it (`artifactType`, `annotations`).
  public var descriptor: Descriptor
  /// The tag it lives under when it was found as a cosign tag (`sha256-<hex>.sig`); nil when its
  /// `subject` names the image.
  public var tag: String?

  public init(descriptor: Descriptor, tag: String? = nil) {
    self.descriptor = descriptor
    self.tag = tag
  }

  /// Its artifact type; for a cosign tag without one, the type of its first layer (what the tag holds).
  public var artifactType: String? { descriptor.artifactType }

  /// The most referrers hoist takes of one subject before refusing the list as hostile.
  public static let maximumPerSubject = 10_000

  /// The suffixes of cosign's tags beside an image: signatures, attestations, SBOMs.
  public static let cosignSuffixes = [".sig", ".att", ".sbom"]

  /// The referrers tag schema's tag for a subject (`sha256-<hex>`), whose index lists its referrers where
  /// the registry has no referrers API; cosign's tags add a suffix to it.
  public static func fallbackTag(of subject: Digest) -> String { "\(subject.algorithm)-\(subject.hex)" }

  /// Whether a tag is one of the tags referrers live under (the fallback index, a cosign tag): such tags
  /// travel with their images rather than as images.
  public static func isReferrerTag(_ tag: String) -> Bool { parseTag(tag) != nil }

  /// The subject a referrer tag names and, for a cosign tag, its suffix; nil for any other tag.
  public static func parseTag(_ tag: String) -> (subject: Digest, cosignSuffix: String?)? {
    let suffix = cosignSuffixes.first { tag.hasSuffix($0) }
    let base = tag.dropLast(suffix?.count ?? 0)
    guard base.hasPrefix("sha256-"), let subject = try? Digest(sha256Hex: String(base.dropFirst(7))) else { return nil }
    return (subject, suffix)
  }

  /// The descriptor the manifest or index `bytes` (whose digest is `digest`) gets in a referrers list: its
  /// media type, digest and size, its `artifactType` (else its config's media type) and its annotations,
  /// and the subject it names; nil when it names none.
  public static func listed(
    _ bytes: Data, mediaType: String, digest: Digest
  ) -> (descriptor: Descriptor, subject: Descriptor)? {
    guard let parts = try? JSONDecoder().decode(Parts.self, from: bytes), let subject = parts.subject else {
      return nil
    }
    var descriptor = describe(bytes, mediaType: mediaType, digest: digest, parts: parts)
    descriptor.artifactType = parts.artifactType ?? parts.config?.mediaType
    return (descriptor, subject)
  }

  /// A cosign tag's manifest as a referrer: its `artifactType`, else its first layer's media type (cosign
  /// writes the plain image config, which says nothing of what the tag holds).
  public static func tagged(_ bytes: Data, mediaType: String, digest: Digest, tag: String) -> Referrer {
    let parts = (try? JSONDecoder().decode(Parts.self, from: bytes)) ?? Parts()
    var descriptor = describe(bytes, mediaType: mediaType, digest: digest, parts: parts)
    descriptor.artifactType = parts.artifactType ?? parts.layers?.first?.mediaType ?? parts.config?.mediaType
    return Referrer(descriptor: descriptor, tag: tag)
  }

  private static func describe(_ bytes: Data, mediaType: String, digest: Digest, parts: Parts) -> Descriptor {
    Descriptor(
      mediaType: parts.mediaType ?? mediaType, digest: digest, size: Int64(bytes.count), annotations: parts.annotations)
  }

  /// The fields of a manifest or index a referrers list repeats.
  private struct Parts: Decodable {
    var mediaType: String?
    var artifactType: String?
    var config: Descriptor?
    var layers: [Descriptor]?
    var subject: Descriptor?
    var annotations: [String: String]?
  }
}

/// Which referrers a copy carries.
public struct ReferrerSelection: Sendable, Equatable {
  /// The artifact types to keep among an image's referrers; empty keeps all. Whatever refers to a kept
  /// referrer (a signature on an SBOM) comes with it.
  public var artifactTypes: [String]
  /// How many levels of referrers of referrers are followed.
  public var depth: Int
  /// Chosen by default rather than asked for (a file's referrers travel with it): a manifest whose digest
  /// has to change leaves its referrers out with a notice, instead of the change being refused.
  public var implied = false

  /// Four levels: a signature on an attestation on an SBOM on the image, and one more.
  public static let defaultDepth = 4

  public init(artifactTypes: [String] = [], depth: Int = ReferrerSelection.defaultDepth, implied: Bool = false) {
    self.artifactTypes = artifactTypes
    self.depth = depth
    self.implied = implied
  }

  /// Whether a referrer at `level` (1: it refers to the image) is kept.
  public func keeps(_ referrer: Referrer, level: Int) -> Bool {
    level > 1 || artifactTypes.isEmpty || referrer.artifactType.map(artifactTypes.contains) == true
  }
}
