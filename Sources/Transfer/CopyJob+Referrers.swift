import Foundation
import OCI

extension CopyJob {
  /// Copies the referrers of a manifest or index just stored (`level` 1: they refer to the image), when the
  /// options ask for them: each by digest, or under its cosign tag beside the image, and then its own
  /// referrers, down to the selection's depth. A referrer the source lists but does not hold is skipped with
  /// a notice; one already carried (listed twice, or a list naming the image itself) is not copied again.
  func copyReferrers(of subject: Digest, level: Int) async throws {
    guard let selection = options.referrers, level <= selection.depth else { return }
    for referrer in try await ReferrerTree.kept(of: subject, in: source, selection: selection, level: level) {
      let descriptor = referrer.descriptor
      guard MediaType.isManifest(descriptor.mediaType) || MediaType.isIndex(descriptor.mediaType) else {
        engine.progress(
          .notice(
            "\(source): referrer \(descriptor.digest) of \(subject) is \(descriptor.mediaType), not a manifest; skipped"
          ))
        continue
      }
      guard await carried.insert(descriptor.digest) else { continue }
      let bytes: Data
      do {
        bytes = try await source.document(descriptor)
      } catch  where ErrorCategory(of: error) == .notFound {
        engine.progress(
          .notice("\(source) lists referrer \(descriptor.digest) of \(subject) but does not hold it; skipped"))
        continue
      }
      engine.progress(
        .referrerFound(descriptor.digest, subject: subject, artifactType: referrer.artifactType, tag: referrer.tag))
      _ = try await copyNode(
        descriptor, bytes: bytes, naming: referrer.tag.map(Naming.sibling) ?? .digest, depth: 0, level: level)
    }
  }

  /// Says how many referrers an image (not a referrer: `level` 0) leaves behind, and why.
  func noteReferrersLeftOut(of subject: Digest, level: Int, why: String) async throws {
    guard level == 0 else { return }
    let left = try await ReferrerTree.kept(of: subject, in: source, selection: ReferrerSelection(), level: 1)
    guard !left.isEmpty else { return }
    engine.progress(.notice("\(source): \(left.count) referrer(s) of \(subject) left out: \(why)"))
  }
}
