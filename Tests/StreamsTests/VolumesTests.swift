import Foundation
import Testing

@testable import Streams

@Suite struct VolumesTests {
  @Test func aTarWrittenInPartsIsReadAsOneAcrossThem() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parts-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let contents = (0..<3).map { n in (0..<(5000 + n * 777)).map { UInt8(truncatingIfNeeded: $0 * (n + 7)) } }
    let tar = try PlannedTar(path: folder + "/bundle.tar", partSize: 4096)
    var offsets = [Int64]()
    for (n, bytes) in contents.enumerated() {
      offsets.append(try tar.addFile(name: "member\(n)", size: Int64(bytes.count)))
      try tar.write(bytes, at: offsets[n])
    }
    try tar.finish()
    // What was written reads back across the parts, as a layer written in pieces is checked.
    for (n, bytes) in contents.enumerated() {
      let reader = try tar.reader(offset: offsets[n], length: Int64(bytes.count))
      var read = [UInt8]()
      while case let piece = try reader.read(maxLength: 1500), !piece.isEmpty { read += piece }
      #expect(read == bytes)
    }
    #expect(tar.files.count > 3 && tar.files[0].hasSuffix("bundle.tar.001"))
    let sizes = try tar.files.map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
    #expect(sizes.dropLast().allSatisfy { $0 == 4096 } && sizes.last! <= 4096)
    #expect(Volumes.parts(of: folder + "/bundle.tar") == tar.files)
    #expect(Volumes.parts(of: folder + "/bundle.tar.001") == tar.files)
    let archive = try TarArchive(path: folder + "/bundle.tar.001")
    for (n, bytes) in contents.enumerated() {
      #expect(try archive.read("member\(n)", limit: 1 << 20) == bytes)
      let reader = try archive.open(archive.resolve("member\(n)")!, from: 1000)
      var rest = [UInt8]()
      while case let piece = try reader.read(maxLength: 1500), !piece.isEmpty { rest += piece }
      #expect(rest == Array(bytes.dropFirst(1000)))
    }
  }
}
