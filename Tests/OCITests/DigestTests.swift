import Foundation
import Testing

@testable import OCI

@Suite struct DigestTests {
  let hex = String(repeating: "ab", count: 32)

  @Test func parsesSHA256() throws {
    let digest = try Digest("sha256:\(hex)")
    #expect(digest.algorithm == "sha256")
    #expect(digest.hex == hex)
    #expect(digest.description == "sha256:\(hex)")
    #expect(digest.short == String(hex.prefix(12)))
  }

  @Test(arguments: [
    "", "sha256", "sha256:", "sha256:abc", "sha512:\(String(repeating: "a", count: 128))",
    "sha256:\(String(repeating: "A", count: 64))", "sha256:\(String(repeating: "g", count: 64))",
  ])
  func refusesMalformed(_ text: String) {
    #expect(throws: OCIError.self) { try Digest(text) }
  }

  @Test func buildsFromBytes() {
    let digest = Digest(sha256Bytes: [UInt8](repeating: 0xab, count: 32))
    #expect(digest.hex == hex)
  }

  @Test func roundTripsThroughJSON() throws {
    let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try Digest("sha256:\(hex)"), size: 3)
    let decoded = try JSONDecoder().decode(Descriptor.self, from: JSONEncoder().encode(descriptor))
    #expect(decoded == descriptor)
  }
}
