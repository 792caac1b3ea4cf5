import Foundation
import OCI

/// A referrer and the referrers it has in turn, as `hoist referrers` shows them.
public struct ReferrerTree: Sendable {
  public var referrer: Referrer
  public var children: [ReferrerTree]

  /// The referrers of `subject` in `source` that `selection` keeps, and theirs, down to its depth; each
  /// manifest once however often it is listed.
  public static func discover(
    of subject: Digest, in source: any ImageSource, selection: ReferrerSelection
  ) async throws -> [ReferrerTree] {
    let seen = DigestSet()
    _ = await seen.insert(subject)
    return try await discover(of: subject, in: source, selection: selection, level: 1, seen: seen)
  }

  private static func discover(
    of subject: Digest, in source: any ImageSource, selection: ReferrerSelection, level: Int, seen: DigestSet
  ) async throws -> [ReferrerTree] {
    guard level <= selection.depth else { return [] }
    var trees = [ReferrerTree]()
    for referrer in try await kept(of: subject, in: source, selection: selection, level: level)
    where await seen.insert(referrer.descriptor.digest) {
      let children = try await discover(
        of: referrer.descriptor.digest, in: source, selection: selection, level: level + 1, seen: seen)
      trees.append(ReferrerTree(referrer: referrer, children: children))
    }
    return trees
  }

  /// The referrers of `subject` that `selection` keeps at `level` (1: they refer to the image), asking the
  /// source to filter where one artifact type is wanted; a list longer than any real image has is refused.
  static func kept(
    of subject: Digest, in source: any ImageSource, selection: ReferrerSelection, level: Int
  ) async throws -> [Referrer] {
    let filter = level == 1 && selection.artifactTypes.count == 1 ? selection.artifactTypes[0] : nil
    let found = try await source.referrers(of: subject, artifactType: filter)
    guard found.count <= Referrer.maximumPerSubject else {
      throw TransferError.tooManyReferrers(source: source.description, subject: subject)
    }
    return found.filter { selection.keeps($0, level: level) }
  }
}

/// Digests seen by concurrent tasks.
actor DigestSet {
  private var digests = Set<Digest>()

  /// Adds a digest; false when it was there already.
  func insert(_ digest: Digest) -> Bool { digests.insert(digest).inserted }
}
