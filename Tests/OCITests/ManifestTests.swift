import Foundation
import Testing

@testable import OCI

@Suite struct ManifestTests {
  let digest = try! Digest("sha256:" + String(repeating: "1", count: 64))

  @Test func encodingIsCanonical() {
    let config = Descriptor(mediaType: MediaType.ociConfig, digest: digest, size: 2)
    let manifest = Manifest(mediaType: MediaType.ociManifest, config: config, layers: [config, config])
    let first = manifest.encoded()
    for _ in 0..<20 { #expect(manifest.encoded() == first) }
    let text = String(decoding: first, as: UTF8.self)
    #expect(text.hasPrefix(#"{"config":{"digest":"sha256:"#))
    #expect(!text.contains("\\/"))
  }

  @Test func decodeErrorsNameTheProblem() {
    #expect(throws: OCIError.invalidDocument(what: "m", reason: "not valid JSON")) {
      try Manifest.decode(Data("{".utf8), what: "m")
    }
    #expect(throws: OCIError.invalidDocument(what: "m", reason: "missing config")) {
      try Manifest.decode(Data(#"{"schemaVersion":2,"layers":[]}"#.utf8), what: "m")
    }
    let negative = #"{"schemaVersion":2,"config":{"mediaType":"x","digest":"\#(digest)","size":-1},"layers":[]}"#
    #expect(throws: OCIError.self) { try Manifest.decode(Data(negative.utf8), what: "m") }
    let huge = Data(repeating: 0x20, count: maximumDocumentSize + 1)
    #expect(throws: OCIError.self) { try Manifest.decode(huge, what: "m") }
  }

  @Test func formatsMapMediaTypes() throws {
    #expect(ManifestFormat.docker.config(MediaType.ociConfig) == MediaType.dockerConfig)
    #expect(try ManifestFormat.oci.layer(MediaType.dockerLayerGzip) == MediaType.ociLayerGzip)
    #expect(try ManifestFormat.docker.layer(MediaType.ociLayerNondistributableGzip) == MediaType.dockerForeignLayerGzip)
    #expect(throws: OCIError.self) { try ManifestFormat.docker.layer(MediaType.ociLayerZstd) }
    #expect(ManifestFormat(mediaType: MediaType.dockerManifestList) == .docker)
  }

  @Test func platforms() throws {
    #expect(try Platform(parsing: "linux/arm64/v8").description == "linux/arm64/v8")
    #expect(throws: OCIError.self) { try Platform(parsing: "linux") }
  }
}
