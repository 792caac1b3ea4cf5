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

/// A registry repository in memory that notes how many copies write into it at the same moment.
actor RepositoryDestination: ImageDestination {
  nonisolated let name: String
  var blobs = [Digest: Data]()
  var writers = 0
  var mostWriters = 0

  init(_ name: String) { self.name = name }

  nonisolated var description: String { "registry.test/\(name)" }
  nonisolated var location: MountOrigin? { MountOrigin(registry: "registry.test", repository: name) }
  nonisolated var identity: AnyHashable { AnyHashable(description) }
  nonisolated var requiresManifestMediaType: Bool { false }

  func blobExists(_ descriptor: Descriptor) async throws -> Bool { blobs[descriptor.digest] != nil }
  func mountBlob(_ descriptor: Descriptor, from origin: MountOrigin) async throws -> Bool { false }
  func putBlob(_ bytes: Data, descriptor: Descriptor) async throws {
    writers += 1
    mostWriters = max(mostWriters, writers)
    try await Task.sleep(nanoseconds: 2_000_000)
    blobs[descriptor.digest] = bytes
    writers -= 1
  }
  func beginUpload(expected: Descriptor?, reopen: BlobReopener?) async throws -> any BlobUpload {
    StoringUpload(destination: self)
  }
  func store(_ data: Data, as digest: Digest) { blobs[digest] = data }
  func putManifest(
    _ bytes: Data, mediaType: String, reference: ManifestReference, order: Int
  ) async throws -> Digest {
    Digest(sha256Bytes: SHA256Hasher.hash(Array(bytes)))
  }
  func currentManifest(tag: String) async throws -> (bytes: Data, mediaType: String)? { nil }
  func prepare() async throws {}
  func commit() async throws {}
  func abandon() async {}
  func explain(_ error: any Error) async -> (any Error)? { nil }
}

actor StoringUpload: BlobUpload {
  let destination: RepositoryDestination
  var data = Data()
  init(destination: RepositoryDestination) { self.destination = destination }
  func write(_ bytes: [UInt8]) async throws { data.append(contentsOf: bytes) }
  func finish(digest: Digest, size: Int64) async throws { await destination.store(data, as: digest) }
  func cancel(keepPartial: Bool) async {}
}

@Suite struct RepositoryTurnTests {
  @Test func copiesStartRepositoryByRepository() {
    #expect(RunDestinations.startOrder(["a", "a", "a", "b", "b", "c"]) == [0, 3, 5, 1, 4, 2])
    #expect(RunDestinations.startOrder([nil, nil, "a", "a"]) == [0, 1, 2, 3])
    #expect(RunDestinations.startOrder([]) == [])
  }

  @Test func copiesIntoOneRepositoryTakeTurnsAndOthersRunAtOnce() async throws {
    let one = RepositoryDestination("one")
    let other = RepositoryDestination("other")
    let engine = CopyEngine(options: CopyOptions())
    let copies = (0..<6).map { position in
      ImageCopy(
        source: { MemorySource(layers: [Data("layer \(position)".utf8)]) },
        targets: [CopyTarget(destination: position < 4 ? one : other, tags: ["\(position)"])])
    }
    _ = try await engine.run(copies, jobs: 6)
    #expect(await one.mostWriters == 1, "never two copies writing into one repository at once")
  }
}
