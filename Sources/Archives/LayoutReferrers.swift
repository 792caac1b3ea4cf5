import Foundation
import OCI

/// The referrers an OCI layout's `index.json` lists beside its images: manifests that name a subject (as
/// hoist and oras store them) and cosign's tags (`NAME:sha256-<hex>.sig`). Read once, on first use.
final class LayoutReferrers: @unchecked Sendable {
  private let files: any LayoutFiles
  private let lock = NSLock()
  private var bySubject: [Digest: [Referrer]]?

  init(files: any LayoutFiles) { self.files = files }

  /// The referrers of `subject` the layout holds.
  func referrers(of subject: Digest) throws -> [Referrer] {
    lock.lock()
    defer { lock.unlock() }
    if bySubject == nil { bySubject = try read() }
    return bySubject?[subject] ?? []
  }

  /// Whether an `index.json` entry is there for an image's sake rather than as an image: it is under a
  /// referrer's tag, says its artifact type, or is unnamed and names a subject.
  func isReferrer(_ entry: Descriptor) throws -> Bool {
    if let name = entry.refName { return Referrer.isReferrerTag(Self.tag(of: name)) }
    if entry.artifactType != nil { return true }
    guard MediaType.isManifest(entry.mediaType) || MediaType.isIndex(entry.mediaType) else { return false }
    let bytes = try files.verifiedDocument(entry)
    return Referrer.listed(bytes, mediaType: entry.mediaType, digest: entry.digest) != nil
  }

  /// The tag part of an image name (`reg/app:TAG`), or the name itself when it has none.
  static func tag(of name: String) -> String {
    let slash = name.lastIndex(of: "/")
    guard let colon = name.lastIndex(of: ":"), slash.map({ colon > $0 }) ?? true else { return name }
    return String(name[name.index(after: colon)...])
  }

  private func read() throws -> [Digest: [Referrer]] {
    guard try files.exists("index.json") else { return [:] }
    let index = try Index.decode(
      files.read("index.json", limit: maximumDocumentSize), what: "\(files.path): index.json")
    var found = [Digest: [Referrer]]()
    for entry in index.manifests where MediaType.isManifest(entry.mediaType) || MediaType.isIndex(entry.mediaType) {
      if let name = entry.refName {
        let tag = Self.tag(of: name)
        guard let suffix = Referrer.cosignSuffixes.first(where: { tag.hasSuffix($0) }), Referrer.isReferrerTag(tag),
          let subject = try? Digest("sha256:" + tag.dropFirst(7).dropLast(suffix.count))
        else { continue }
        let bytes = try files.verifiedDocument(entry)
        found[subject, default: []].append(
          Referrer.tagged(bytes, mediaType: entry.mediaType, digest: entry.digest, tag: tag))
      } else {
        let bytes = try files.verifiedDocument(entry)
        guard let listed = Referrer.listed(bytes, mediaType: entry.mediaType, digest: entry.digest) else { continue }
        found[listed.subject.digest, default: []].append(Referrer(descriptor: listed.descriptor))
      }
    }
    return found
  }
}
