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
    #expect(try ManifestFormat.oci.layer(MediaType.dockerLayerGzip, digest: digest) == MediaType.ociLayerGzip)
    #expect(
      try ManifestFormat.docker.layer(MediaType.ociLayerNondistributableGzip, digest: digest)
        == MediaType.dockerForeignLayerGzip)
    #expect(try ManifestFormat.docker.layer(MediaType.ociLayer, digest: digest) == MediaType.dockerLayerUncompressed)
    #expect(throws: OCIError.self) { try ManifestFormat.docker.layer(MediaType.ociLayerZstd, digest: digest) }
    #expect(ManifestFormat(mediaType: MediaType.dockerManifestList) == .docker)
  }

  @Test func conversionToDockerDropsWhatSchema2Lacks() throws {
    var manifest = Manifest(
      mediaType: MediaType.ociManifest, config: Descriptor(mediaType: MediaType.ociConfig, digest: digest, size: 2),
      layers: [Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 3, annotations: ["a": "b"])],
      annotations: ["created": "now"])
    manifest.subject = Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: 4)
    let (docker, dropped) = try manifest.converted(to: .docker)
    #expect(docker.mediaType == MediaType.dockerManifest)
    #expect(docker.config.mediaType == MediaType.dockerConfig)
    #expect(docker.layers.map(\.mediaType) == [MediaType.dockerLayerGzip])
    #expect(docker.annotations == nil && docker.subject == nil && docker.layers[0].annotations == nil)
    #expect(dropped == ["annotations", "subject", "descriptor annotations"])
    let (back, none) = try docker.converted(to: .oci)
    #expect(back.layers.map(\.mediaType) == [MediaType.ociLayerGzip] && none.isEmpty)

    manifest.layers[0].mediaType = MediaType.ociLayerZstd
    #expect(
      throws: OCIError.unconvertible(
        "layer \(digest) is zstd (\(MediaType.ociLayerZstd)), which Docker schema 2 cannot describe; push it with --format oci"
      )
    ) { try manifest.converted(to: .docker) }
  }

  @Test func aDocumentDeclaresItsOwnType() throws {
    let docker = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.dockerManifest)","config":{},"layers":[]}"#.utf8)
    #expect(DeclaredType(document: docker) == DeclaredType(mediaType: MediaType.dockerManifest, isExplicit: true))
    let bare = Data(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
    #expect(DeclaredType(document: bare) == DeclaredType(mediaType: MediaType.ociIndex, isExplicit: false))
    #expect(DeclaredType(document: Data(#"{"schemaVersion":1,"fsLayers":[]}"#.utf8)) == nil)
    let added = DeclaredType.addingField(MediaType.ociIndex, to: bare)
    #expect(
      String(decoding: added, as: UTF8.self)
        == #"{"mediaType":"\#(MediaType.ociIndex)","schemaVersion":2,"manifests":[]}"#)
    #expect(
      String(decoding: DeclaredType.addingField("t", to: Data("{ }".utf8)), as: UTF8.self) == #"{"mediaType":"t" }"#)
  }

  @Test func platforms() throws {
    #expect(try Platform(parsing: "linux/arm64/v8").description == "linux/arm64/v8")
    #expect(throws: OCIError.self) { try Platform(parsing: "linux") }
  }
}
