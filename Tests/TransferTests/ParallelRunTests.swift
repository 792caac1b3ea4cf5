import Foundation
import OCI
import Streams
import Testing

@testable import Transfer

/// Runs that copy several images at once.
@Suite struct ParallelRunTests {
  let shared = Data(repeating: 7, count: 400_000)

  func image(_ own: String, corrupt: Bool = false) -> MemorySource {
    MemorySource(layers: [shared, Data(own.utf8)], corruptLayer: corrupt ? 1 : nil)
  }

  @Test func aBlobSharedByImagesInFlightIsSentOnce() async throws {
    let destination = MemoryDestination()
    let engine = CopyEngine(options: CopyOptions())
    let copies = ["a", "b", "c", "d", "e", "f"].map { name in
      ImageCopy(
        source: { image(name) }, targets: [CopyTarget(destination: destination, tags: [name])], label: name)
    }
    let results = try await engine.runEach(copies, jobs: 4)
    #expect(results.allSatisfy { (try? $0.get()) != nil })
    #expect(await destination.uploads == 7, "the shared layer once, each image's own layer once")
    #expect(await destination.manifests.keys.sorted() == ["a", "b", "c", "d", "e", "f"])
  }

  @Test func resultsComeInTheOrderGivenAndAFailureStopsNoOther() async throws {
    let destination = MemoryDestination()
    let events = Notices()
    let engine = CopyEngine(options: CopyOptions(), progress: events.take)
    let copies = (0..<5).map { position in
      ImageCopy(
        source: { image("image \(position)", corrupt: position == 2) },
        targets: [CopyTarget(destination: destination, tags: ["\(position)"])], label: "image-\(position)")
    }
    let results = try await engine.runEach(copies, jobs: 3)
    #expect(results.map { (try? $0.get()) == nil } == [false, false, true, false, false])
    for (position, result) in results.enumerated() where position != 2 {
      let manifest = try #require(await destination.manifests["\(position)"])
      #expect(try result.get().digest == Digest(sha256Bytes: SHA256Hasher.hash(Array(manifest))))
    }
    #expect(events.labels.isSuperset(of: ["image-0", "image-4"]), "every event says which image it is about")
  }

  @Test func aRunThatMustNotKeepGoingStopsAtTheFirstFailure() async throws {
    let destination = MemoryDestination()
    let engine = CopyEngine(options: CopyOptions())
    let copies = (0..<4).map { position in
      ImageCopy(
        source: { image("\(position)", corrupt: position == 0) },
        targets: [CopyTarget(destination: destination, tags: ["\(position)"])])
    }
    await #expect(throws: TransferError.self) { try await engine.run(copies, jobs: 2) }
  }
}
