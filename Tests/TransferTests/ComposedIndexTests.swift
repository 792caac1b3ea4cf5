import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

@Suite struct ComposedIndexTests {
  /// An OCI image in memory whose config names `platform`.
  static func image(_ platform: String, layer: String) -> MemorySource {
    let parts = platform.split(separator: "/").map(String.init)
    let layerData = Data(layer.utf8)
    let configData = Data(
      #"{"os":"\#(parts[0])","architecture":"\#(parts[1])","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
    func describe(_ data: Data, _ type: String) -> Descriptor {
      Descriptor(mediaType: type, digest: Digest(sha256Bytes: SHA256Hasher.hash(Array(data))), size: Int64(data.count))
    }
    let manifest = Manifest(
      mediaType: MediaType.ociManifest, config: describe(configData, MediaType.ociConfig),
      layers: [describe(layerData, MediaType.ociLayerGzip)]
    ).encoded()
    return MemorySource(root: manifest, rootType: MediaType.ociManifest, blobs: [layerData, configData])
  }

  @Test func entriesComeFromEachSourceWithTheirConfigsPlatforms() async throws {
    let amd = Self.image("linux/amd64", layer: "a")
    let arm = Self.image("linux/arm64", layer: "b")
    let index = try await ComposedIndex.compose([amd, arm], annotations: ["k": "v"])
    let decoded = try Index.decode(try await index.root().bytes, what: "index")
    #expect(decoded.manifests.map { $0.platform?.description } == ["linux/amd64", "linux/arm64"])
    #expect(decoded.annotations == ["k": "v"])
    let armManifest = try Manifest.decode(try await index.document(decoded.manifests[1]), what: "m")
    #expect(try await index.document(armManifest.config) == arm.blobs[armManifest.config.digest])
  }

  @Test func onePlatformTwiceIsRefused() async {
    await #expect(throws: ComposeError.self) {
      _ = try await ComposedIndex.compose([
        Self.image("linux/amd64", layer: "a"), Self.image("linux/amd64", layer: "b"),
      ])
    }
  }
}
