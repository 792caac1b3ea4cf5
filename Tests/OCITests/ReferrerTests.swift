import Foundation
import Testing

@testable import OCI

@Suite struct ReferrerTests {
  let subject = try! Digest("sha256:" + String(repeating: "ab", count: 32))

  @Test func theTagsReferrersLiveUnder() {
    let tag = Referrer.fallbackTag(of: subject)
    #expect(tag == "sha256-" + String(repeating: "ab", count: 32))
    #expect(Referrer.isReferrerTag(tag))
    for suffix in [".sig", ".att", ".sbom"] { #expect(Referrer.isReferrerTag(tag + suffix)) }
    #expect(!Referrer.isReferrerTag(tag + ".txt"))
    #expect(!Referrer.isReferrerTag("sha256-abc.sig"))
    #expect(!Referrer.isReferrerTag("1.4"))
    #expect(!Referrer.isReferrerTag(tag.uppercased()))
  }

  @Test func aTagBesideAnImageIsNamedInItsTerms() {
    #expect(Reference.sibling(of: "reg.example.com:5000/team/app:1.4", tag: "t") == "reg.example.com:5000/team/app:t")
    #expect(Reference.sibling(of: "reg.example.com:5000/app", tag: "t") == "reg.example.com:5000/app:t")
    #expect(Reference.sibling(of: "app:1.4", tag: "t") == "app:t")
    #expect(Reference.sibling(of: "1.4", tag: "t") == "t")
    #expect(Reference.sibling(of: "reg/app:1@sha256:" + String(repeating: "0", count: 64), tag: "t") == "reg/app:t")
  }

  @Test func aManifestWithASubjectIsListedWithItsArtifactTypeOrConfigType() throws {
    let config = Descriptor(mediaType: "application/vnd.example.config", digest: subject, size: 2)
    var manifest = Manifest(
      mediaType: MediaType.ociManifest, config: config, layers: [], annotations: ["created": "now"])
    #expect(Referrer.listed(manifest.encoded(), mediaType: MediaType.ociManifest, digest: subject) == nil)
    manifest.subject = Descriptor(mediaType: MediaType.ociManifest, digest: subject, size: 10)
    let listed = try #require(Referrer.listed(manifest.encoded(), mediaType: "", digest: subject))
    #expect(listed.subject.digest == subject)
    #expect(listed.descriptor.artifactType == "application/vnd.example.config")
    #expect(listed.descriptor.annotations == ["created": "now"])
    #expect(listed.descriptor.mediaType == MediaType.ociManifest)
    manifest.artifactType = "application/spdx+json"
    #expect(
      Referrer.listed(manifest.encoded(), mediaType: "", digest: subject)?.descriptor.artifactType
        == "application/spdx+json")
  }

  @Test func aCosignTagIsTypedByItsFirstLayer() {
    let config = Descriptor(mediaType: MediaType.ociConfig, digest: subject, size: 2)
    let layer = Descriptor(mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", digest: subject, size: 9)
    let manifest = Manifest(mediaType: MediaType.ociManifest, config: config, layers: [layer])
    let referrer = Referrer.tagged(manifest.encoded(), mediaType: MediaType.ociManifest, digest: subject, tag: "t.sig")
    #expect(referrer.artifactType == "application/vnd.dev.cosign.simplesigning.v1+json")
    #expect(referrer.tag == "t.sig")
  }

  @Test func theSelectionFiltersTheImagesReferrersOnly() {
    let selection = ReferrerSelection(artifactTypes: ["application/spdx+json"])
    var sbom = Descriptor(mediaType: MediaType.ociManifest, digest: subject, size: 1)
    sbom.artifactType = "application/spdx+json"
    var signature = sbom
    signature.artifactType = "application/vnd.example.sig"
    #expect(selection.keeps(Referrer(descriptor: sbom), level: 1))
    #expect(!selection.keeps(Referrer(descriptor: signature), level: 1))
    #expect(selection.keeps(Referrer(descriptor: signature), level: 2))
    #expect(ReferrerSelection().keeps(Referrer(descriptor: signature), level: 1))
  }
}
