import Foundation
import OCI

/// The referrers an OCI layout's `index.json` lists beside its images: manifests that name a subject (as
/// hoist and oras store them) and cosign's tags (`NAME:sha256-<hex>.sig`). Each manifest is read once, the
/// first time anything is asked.
final class LayoutReferrers: @unchecked Sendable {
  private let files: any LayoutFiles
  private let lock = NSLock()
  private var catalog: Catalog?

  /// The layout's referrers by subject, and the unnamed entries that are referrers.
  private struct Catalog {
    var bySubject = [Digest: [Referrer]]()
    var unnamed = Set<Digest>()
  }

  init(files: any LayoutFiles) { self.files = files }

  /// The referrers of `subject` the layout holds.
  func referrers(of subject: Digest) throws -> [Referrer] { try read().bySubject[subject] ?? [] }

  /// Whether an `index.json` entry is there for an image's sake rather than as an image: it is under a
  /// referrer's tag, says its artifact type, or is unnamed and names a subject.
  func isReferrer(_ entry: Descriptor) throws -> Bool {
    if let name = entry.refName { return Reference.tag(ofName: name).map(Referrer.isReferrerTag) ?? false }
    return try entry.artifactType != nil || read().unnamed.contains(entry.digest)
  }

  private func read() throws -> Catalog {
    lock.lock()
    defer { lock.unlock() }
    if let catalog { return catalog }
    var found = Catalog()
    if try files.exists("index.json") {
      let index = try Index.decode(
        files.read("index.json", limit: maximumDocumentSize), what: "\(files.path): index.json")
      for entry in index.manifests where MediaType.isManifest(entry.mediaType) || MediaType.isIndex(entry.mediaType) {
        if let name = entry.refName {
          guard let tag = Reference.tag(ofName: name), let parsed = Referrer.parseTag(tag), parsed.cosignSuffix != nil
          else { continue }
          let bytes = try files.verifiedDocument(entry)
          found.bySubject[parsed.subject, default: []].append(
            Referrer.tagged(bytes, mediaType: entry.mediaType, digest: entry.digest, tag: tag))
        } else {
          let bytes = try files.verifiedDocument(entry)
          guard let listed = Referrer.listed(bytes, mediaType: entry.mediaType, digest: entry.digest) else { continue }
          found.bySubject[listed.subject.digest, default: []].append(Referrer(descriptor: listed.descriptor))
          found.unnamed.insert(entry.digest)
        }
      }
    }
    catalog = found
    return found
  }
}
