import Archives
import OCI
import Testing

@testable import Hoist

@Suite struct ImageLocationTests {
  @Test(arguments: [
    ("oci:./layout", ImageLocation.file(path: "./layout", format: .oci, name: nil)),
    ("oci:/tmp/layout:app:1.4", .file(path: "/tmp/layout", format: .oci, name: "app:1.4")),
    ("oci-archive:app.tar:app", .file(path: "app.tar", format: .ociArchive, name: "app")),
    ("docker-archive:app.tar", .file(path: "app.tar", format: .dockerArchive, name: nil)),
    ("dir:./app-dir", .file(path: "./app-dir", format: .dir, name: nil)),
    ("./bundle.tar", .file(path: "./bundle.tar", format: .dockerArchive, name: nil)),
    ("../layout", .file(path: "../layout", format: .oci, name: nil)),
  ])
  func filesAreNamedByTransportOrPath(text: String, expected: ImageLocation) throws {
    #expect(try ImageLocation(parsing: text) == expected)
  }

  @Test func aReferenceWithoutTagOrDigestIsLatest() throws {
    guard case .registry(let reference) = try ImageLocation(parsing: "registry.example.com/app") else {
      Issue.record("not a registry location")
      return
    }
    #expect(reference.tag == "latest" && reference.manifestReference == "latest")
    let pinned = try ImageLocation.registryReference(
      "registry.example.com/app@sha256:" + String(repeating: "a", count: 64))
    #expect(pinned.tag == nil && pinned.manifestReference == "sha256:" + String(repeating: "a", count: 64))
    #expect(try ImageLocation(parsing: "localhost:5000/app:1").registryHost == "localhost:5000")
  }

  @Test func whatCannotBeUsedIsRefusedNamingIt() {
    #expect(throws: LocationError.self) { try ImageLocation(parsing: "oci:") }
    #expect { try ImageLocation.registryReference("oci:./layout") } throws: {
      "\($0)" == "oci:./layout: name an image in a registry"
    }
    #expect(throws: OCIError.self) { try ImageLocation(parsing: "Registry.example.com/UPPER:1") }
  }

  @Test func onlyADirFolderHoldsOneImage() throws {
    #expect(try ImageLocation(parsing: "dir:./x").isDirFolder)
    #expect(try !ImageLocation(parsing: "oci:./x").isDirFolder)
  }
}
