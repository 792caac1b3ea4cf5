import Foundation
import Testing

@testable import Archives

@Suite struct BundleCheckTests {
  @Test(arguments: [
    "docker-legacy.tar", "docker-25.tar", "containerd.tar", "oci-layout", "oci-layout.tar", "multiarch",
  ])
  func everyFixtureIsSound(fixture: String) async throws {
    let report = try await BundleCheck.verify(path: testdata + "/" + fixture)
    #expect(report.isSound, "\(report.problems)")
    #expect(report.images.count == 1 && report.blobs > 0)
  }

  @Test func anIndexThatNamesPlatformsLeftOutGetsANoteNotAProblem() async throws {
    let report = try await BundleCheck.verify(path: testdata + "/containerd.tar")
    #expect(report.isSound && report.notes.count == 1 && report.notes[0].hasSuffix("left out"))
    #expect(report.images[0].name == "example.com/hoist/app:1.0")
  }

  @Test func aBlobThatDoesNotMatchItsNameIsAProblemAndSoIsAMissingOne() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.copyItem(atPath: testdata + "/oci-layout", toPath: folder)
    let blobs = folder + "/blobs/sha256/"
    let names = try FileManager.default.contentsOfDirectory(atPath: blobs).sorted()
    try Data("changed".utf8).write(to: URL(fileURLWithPath: blobs + names[0]))
    let changed = try await BundleCheck.verify(path: folder)
    #expect(changed.problems.contains { $0.hasPrefix("blob sha256:\(names[0]): its content hashes to") })
    try FileManager.default.removeItem(atPath: blobs + names[0])
    let missing = try await BundleCheck.verify(path: folder)
    #expect(missing.problems.contains { $0.contains("names sha256:\(names[0])") && $0.hasSuffix("not in the bundle") })
  }

  @Test func somethingThatIsNoBundleIsRefused() async {
    await #expect(throws: ArchiveError.self) { try await BundleCheck.verify(path: testdata + "/nothing-here") }
    await #expect(throws: ArchiveError.self) { try await BundleCheck.verify(path: testdata + "/hostile") }
  }
}
