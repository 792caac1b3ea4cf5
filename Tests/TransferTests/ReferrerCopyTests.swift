import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

/// An image with referrers, held in memory: each referrer an artifact manifest naming its subject.
struct ReferringSource: ImageSource {
  var image: MemorySource
  var listed = [Digest: [Referrer]]()

  var description: String { "memory with referrers" }

  init() {
    image = MemorySource(
      root: Manifest(
        mediaType: MediaType.ociManifest,
        config: Descriptor(
          mediaType: MediaType.ociConfig, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array("{}".utf8))), size: 2),
        layers: []
      ).encoded(), rootType: MediaType.ociManifest, blobs: [Data("{}".utf8)])
  }

  /// Adds an artifact of `type` referring to `subject`, under a cosign tag if `tag` is given; returns its digest.
  @discardableResult
  mutating func refer(to subject: Digest, type: String, tag: String? = nil) -> Digest {
    let config = Descriptor(
      mediaType: "application/vnd.oci.empty.v1+json", digest: Digest(sha256Bytes: SHA256Hasher.hash(Array("{}".utf8))),
      size: 2)
    var manifest = Manifest(
      mediaType: MediaType.ociManifest, config: config, layers: [], annotations: ["n": "\(listed.count)\(type)"])
    manifest.artifactType = type
    if tag == nil { manifest.subject = Descriptor(mediaType: MediaType.ociManifest, digest: subject, size: 1) }
    let bytes = manifest.encoded()
    let digest = Digest(sha256Bytes: SHA256Hasher.hash(Array(bytes)))
    image.blobs[digest] = bytes
    var descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: Int64(bytes.count))
    descriptor.artifactType = type
    listed[subject, default: []].append(Referrer(descriptor: descriptor, tag: tag))
    return digest
  }

  var rootDigest: Digest { image.rootDescriptor.digest }

  func root() async throws -> RootDocument { try await image.root() }
  func document(_ descriptor: Descriptor) async throws -> Data {
    guard let data = image.blobs[descriptor.digest] else { throw Missing() }
    return data
  }
  func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader { try await image.openBlob(descriptor) }
  func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer] { listed[subject] ?? [] }

  struct Missing: CategorizedError {
    var category: ErrorCategory { .notFound }
  }
}

@Suite struct ReferrerCopyTests {
  func copy(_ source: ReferringSource, _ selection: ReferrerSelection?, tags: [String] = ["app:1"]) async throws
    -> MemoryDestination
  {
    var options = CopyOptions()
    options.referrers = selection
    let destination = MemoryDestination()
    _ = try await CopyEngine(options: options).copy(
      from: source, to: [CopyTarget(destination: destination, tags: tags)])
    return destination
  }

  @Test func referrersOfReferrersGoByDigestAndCosignTagsBesideTheImage() async throws {
    var source = ReferringSource()
    let sbom = source.refer(to: source.rootDigest, type: "application/spdx+json")
    let signature = source.refer(to: sbom, type: "application/vnd.example.sig")
    let cosign = source.refer(
      to: source.rootDigest, type: "cosign", tag: Referrer.fallbackTag(of: source.rootDigest) + ".sig")
    let stored = try await copy(source, ReferrerSelection()).manifests
    #expect(stored[sbom.description] != nil)
    #expect(stored[signature.description] != nil)
    #expect(stored["app:" + Referrer.fallbackTag(of: source.rootDigest) + ".sig"] == source.image.blobs[cosign])
    #expect(stored["app:1"] != nil)
    #expect(try await copy(source, nil).manifests.count == 1)
  }

  @Test func theFilterKeepsOneTypeWithWhatRefersToIt() async throws {
    var source = ReferringSource()
    let sbom = source.refer(to: source.rootDigest, type: "application/spdx+json")
    let signature = source.refer(to: sbom, type: "application/vnd.example.sig")
    let attestation = source.refer(to: source.rootDigest, type: "application/vnd.in-toto+json")
    let stored = try await copy(source, ReferrerSelection(artifactTypes: ["application/spdx+json"])).manifests
    #expect(stored[sbom.description] != nil && stored[signature.description] != nil)
    #expect(stored[attestation.description] == nil)
  }

  @Test func depthCyclesAndMissingReferrersAreBounded() async throws {
    var source = ReferringSource()
    var subject = source.rootDigest
    var chain = [Digest]()
    for level in 0..<6 {
      subject = source.refer(to: subject, type: "level\(level)")
      chain.append(subject)
    }
    // The last referrer lists the image itself, and the image lists one that is gone.
    source.listed[subject, default: []].append(Referrer(descriptor: try await source.root().descriptor))
    let gone = Descriptor(
      mediaType: MediaType.ociManifest, digest: try Digest("sha256:" + String(repeating: "e", count: 64)), size: 9)
    source.listed[source.rootDigest, default: []].append(Referrer(descriptor: gone))
    let stored = try await copy(source, ReferrerSelection(depth: 3)).manifests
    #expect(chain.filter { stored[$0.description] != nil } == Array(chain.prefix(3)))
    let all = try await copy(source, ReferrerSelection(depth: 16)).manifests
    #expect(all.count == 1 + chain.count)
    let tree = try await ReferrerTree.discover(
      of: source.rootDigest, in: source, selection: ReferrerSelection(depth: 2))
    #expect(tree.map(\.referrer.descriptor.digest) == [chain[0], gone.digest])
    #expect(tree[0].children.map(\.referrer.descriptor.digest) == [chain[1]])
  }

  @Test func tooManyReferrersAreRefused() async throws {
    var source = ReferringSource()
    let one = source.refer(to: source.rootDigest, type: "flood")
    source.listed[source.rootDigest] = Array(
      repeating: source.listed[source.rootDigest]![0], count: Referrer.maximumPerSubject + 1)
    await #expect(throws: TransferError.self) { try await copy(source, ReferrerSelection()) }
    _ = one
  }

  @Test func aFilesReferrersStepAsideWithANoticeWhenTheirImagesDigestChanges() async throws {
    var source = ReferringSource()
    source.refer(to: source.rootDigest, type: "application/spdx+json")
    var options = CopyOptions()
    options.referrers = ReferrerSelection(implied: true)
    options.format = .docker
    let notices = Notices()
    let destination = MemoryDestination()
    let stored = try await CopyEngine(options: options, progress: notices.take).copy(
      from: source, to: [CopyTarget(destination: destination, tags: ["app:1"])])
    #expect(stored.digest != source.rootDigest)
    #expect(await destination.manifests.count == 1)
    #expect(
      notices.texts.contains { $0.contains("1 referrer(s) of \(source.rootDigest) left out: its digest changed") })
  }

  @Test func leftOutReferrersAreCounted() async throws {
    var source = ReferringSource()
    source.refer(to: source.rootDigest, type: "application/spdx+json")
    source.refer(to: source.rootDigest, type: "application/vnd.in-toto+json")
    var options = CopyOptions()
    options.referrersLeftOutBecause = "--no-referrers"
    let notices = Notices()
    _ = try await CopyEngine(options: options, progress: notices.take).copy(
      from: source, to: [CopyTarget(destination: MemoryDestination(), tags: ["app:1"])])
    #expect(notices.texts == ["memory with referrers: 2 referrer(s) of \(source.rootDigest) left out: --no-referrers"])
  }
}
