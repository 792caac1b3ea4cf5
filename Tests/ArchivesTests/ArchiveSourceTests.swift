import Foundation
import OCI
import Testing

@testable import Archives

let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("testdata").path

@Suite struct ArchiveSourceTests {
  /// The config digest every single-image fixture carries.
  func expectedConfig() throws -> Digest {
    let source = try ArchiveSource.open(path: testdata + "/oci-layout", image: nil)
    let layout = try #require(source as? OCILayoutSource)
    let index = try layout.index()
    let manifest = try Manifest.decode(
      Data(contentsOf: URL(fileURLWithPath: testdata + "/oci-layout/blobs/sha256/" + index.manifests[0].digest.hex)),
      what: "m")
    return manifest.config.digest
  }

  @Test(arguments: [
    "docker-legacy.tar", "docker-legacy.tar.gz", "docker-25.tar", "containerd.tar", "skopeo.tar", "oci-layout",
    "oci-layout.tar",
  ])
  func everyVariantResolvesToTheSameImage(_ fixture: String) async throws {
    let source = try ArchiveSource.open(path: testdata + "/" + fixture, image: nil)
    let root = try await source.root()
    #expect(MediaType.isManifest(root.descriptor.mediaType))
    let manifest = try Manifest.decode(root.bytes, what: fixture)
    #expect(manifest.config.digest == (try expectedConfig()))
    #expect(manifest.layers.count == 3)
    _ = try await source.document(manifest.config)
    for layer in manifest.layers {
      let reader = try await source.openBlob(layer)
      #expect(try await reader.read(maxLength: 2).count == 2)
    }
  }

  @Test func legacyLayersAreDescribedUncompressedByDiffID() async throws {
    let source = try ArchiveSource.open(path: testdata + "/docker-legacy.tar", image: nil)
    let manifest = try Manifest.decode(try await source.root().bytes, what: "m")
    #expect(manifest.mediaType == MediaType.dockerManifest)
    #expect(manifest.layers.allSatisfy { $0.mediaType == MediaType.dockerLayerUncompressed })
  }

  @Test func containerdArchiveNamesWhatItSkipped() async throws {
    let root = try await ArchiveSource.open(path: testdata + "/containerd.tar", image: nil).root()
    #expect(root.notices.count == 1)
    #expect(root.notices[0].contains("linux/arm64/v8"))
  }

  @Test func multiImageArchivesNeedAChoice() async throws {
    #expect(throws: ArchiveError.self) { try ArchiveSource.open(path: testdata + "/two-images.tar", image: nil) }
    let tools = try ArchiveSource.open(path: testdata + "/two-images.tar", image: "example.com/hoist/tools:2.0")
    #expect(try Manifest.decode(try await tools.root().bytes, what: "m").layers.count == 2)
  }

  @Test func selectorMatchesNormalizedNames() {
    #expect(ImageSelector(text: "alpine").matches(["docker.io/library/alpine:latest"]))
    #expect(ImageSelector(text: "app:1.0").matches(["1.0"]))
    #expect(!ImageSelector(text: "app:1.0").matches(["app:2.0"]))
  }

  @Test func claimedDigests() {
    let hex = String(repeating: "a", count: 64)
    #expect(DockerArchiveResolver.claimedDigest("blobs/sha256/\(hex)")?.hex == hex)
    #expect(DockerArchiveResolver.claimedDigest("\(hex).json") == nil)
    #expect(DockerArchiveResolver.claimedDigest("\(hex)/layer.tar") == nil)
  }
}
