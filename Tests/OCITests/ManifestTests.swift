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

@Suite struct SociIndexTests {
  let digest = Digest(sha256Bytes: [UInt8](repeating: 1, count: 32))

  @Test func aPlatformsImageIsNeverItsSociIndex() {
    let platform = Platform(os: "linux", architecture: "amd64")
    let image = Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: 1)
    let soci = SociIndex.indexEntry(image, image: digest, platform: platform)
    let index = Index(
      mediaType: MediaType.ociIndex,
      manifests: [soci, SociIndex.imageEntry(image, annotations: nil, platform: platform)])
    #expect(platform.entry(in: index)?.artifactType == nil)
    #expect(SociIndex.isIndexEntry(soci))
  }

  @Test func theImageBecomesOCIAndNamesItsIndex() throws {
    let layer = Descriptor(mediaType: MediaType.dockerLayerGzip, digest: digest, size: 5)
    let config = Descriptor(mediaType: MediaType.dockerConfig, digest: digest, size: 2)
    let docker = Manifest(mediaType: MediaType.dockerManifest, config: config, layers: [layer])
    let image = SociIndex.annotating(try SociIndex.ociImage(docker), index: digest)
    #expect(image.mediaType == MediaType.ociManifest)
    #expect(image.config.mediaType == MediaType.ociConfig)
    #expect(image.layers[0].mediaType == MediaType.ociLayerGzip)
    #expect(image.annotations == [SociIndex.indexDigestAnnotation: digest.description])
    let ztoc = SociIndex.ztocDescriptor(digest: digest, size: 9, layer: image.layers[0], spanSize: 4 << 20)
    let index = SociIndex.manifest(ztocs: [ztoc], buildTool: "hoist 0.1.0")
    #expect(
      index.config.digest.description == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    #expect(index.subject == nil && index.artifactType == nil)
    #expect(ztoc.annotations?[SociIndex.layerMediaTypeAnnotation] == MediaType.ociLayerGzip)
    #expect(ztoc.annotations?[SociIndex.spanSizeAnnotation] == "4194304")
  }
}
