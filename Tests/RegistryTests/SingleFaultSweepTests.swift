import Archives
import Foundation
import OCI
import Streams
import TestSupport
import Testing
import Transfer
import Transport

@testable import Registry

/// The files `scripts/make-fixtures` makes, at the top of the repository.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("testdata").path

/// One operation of the single-fault sweep: the registry it starts from, what it does, and how many
/// requests it makes when nothing fails (asserted, so that the sweep cannot shrink without notice).
struct SweptOperation: Sendable, CustomStringConvertible {
  /// The registry an operation starts from.
  enum Start {
    case empty
    /// Empty, refusing to overwrite a tag, as ECR's immutable tags do.
    case emptyImmutable
    /// Holding the fixture OCI layout's image as `app:1`.
    case holdingApp
  }

  var name: String
  var requests: Int
  var start: Start
  /// Runs the operation through a client of the registry; returns what it reports (digests, files).
  var run: @Sendable (RegistryClient) async throws -> [String]

  var description: String { name }
}

/// Every request of each operation below is made to fail once, in each way a request can fail, and the
/// operation must still succeed with the digests and the registry contents of a clean run.
@Suite struct SingleFaultSweepTests {
  static let failures: [FakeRegistry.Failure] = [
    .status(500, retryAfter: nil), .reset, .lost, .actedThen(502), .truncated, .status(429, retryAfter: "0"),
    .status(429, retryAfter: nil),
  ]

  static let operations: [SweptOperation] = [
    SweptOperation(name: "push docker archive", requests: 12, start: .empty) { client in
      [
        try await copy(
          ArchiveSource.open(path: fixtures + "/docker-legacy.tar", image: nil), to: client, "archive", ["1"])
      ]
    },
    SweptOperation(name: "push OCI layout", requests: 14, start: .empty) { client in
      [try await copy(ArchiveSource.open(path: fixtures + "/oci-layout", image: nil), to: client, "layout", ["1"])]
    },
    SweptOperation(name: "push to immutable tags", requests: 14, start: .emptyImmutable) { client in
      [try await copy(ArchiveSource.open(path: fixtures + "/oci-layout", image: nil), to: client, "layout", ["1"])]
    },
    SweptOperation(name: "pull", requests: 6, start: .holdingApp) { client in
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
      defer { try? FileManager.default.removeItem(atPath: folder) }
      let destination = try LayoutDestination(path: folder, format: .oci)
      let source = RegistrySource(client: client, repository: "app", reference: "1", platform: .all)
      let stored = try await engine().run([
        ImageCopy(source: { source }, targets: [CopyTarget(destination: destination, tags: ["1"])])
      ])[0]
      let blobs = try FileManager.default.contentsOfDirectory(atPath: folder + "/blobs/sha256").sorted()
      return [stored.digest.description] + blobs
    },
    SweptOperation(name: "copy with mounts", requests: 12, start: .holdingApp) { client in
      [
        try await copy(
          RegistrySource(client: client, repository: "app", reference: "1", platform: .all), to: client, "mirror", ["1"]
        )
      ]
    },
    SweptOperation(name: "attach", requests: 12, start: .holdingApp) { client in
      let subject = try await RegistrySource(client: client, repository: "app", reference: "1", platform: .all).root()
      let artifact = try ArtifactSource.make(
        files: [ArtifactSource.File(path: fixtures + "/oci-layout/oci-layout", mediaType: "text/plain")],
        artifactType: "application/vnd.example.sbom+json", subject: subject.descriptor,
        annotations: ["org.opencontainers.image.created": "2026-12-04T00:00:00Z"])
      return [try await copy(artifact, to: client, "app", [])]
    },
    SweptOperation(name: "index create", requests: 14, start: .holdingApp) { client in
      let layout = try ArchiveSource.open(path: fixtures + "/oci-layout", image: nil)
      let image = try await layout.root().descriptor.digest.description
      let index = try await ComposedIndex.compose([
        RegistrySource(client: client, repository: "app", reference: image, platform: .all)
      ])
      return [try await copy(index, to: client, "combined", ["1", "latest"])]
    },
    SweptOperation(name: "push with a SOCI index", requests: 25, start: .empty) { client in
      [
        try await copy(
          ArchiveSource.open(path: fixtures + "/docker-legacy.tar", image: nil), to: client, "soci", ["1"], soci: true)
      ]
    },
    SweptOperation(name: "a SOCI index for an image there", requests: 25, start: .holdingApp) { client in
      [
        try await copy(
          RegistrySource(client: client, repository: "app", reference: "1", platform: .all), to: client, "app",
          ["1-soci"], soci: true)
      ]
    },
    SweptOperation(name: "tag", requests: 4, start: .holdingApp) { client in
      [try await client.tag(repository: "app", reference: "1", as: ["2", "stable"]).description]
    },
  ]

  @Test(arguments: operations)
  func everyRequestSurvivesEachKindOfFault(_ operation: SweptOperation) async throws {
    let seed = try await Self.registry(operation.start)
    let clean = seed.copy()
    let expected = try await operation.run(makeClient(clean))
    #expect(clean.log.count == operation.requests, "\(operation): \(clean.log.map { "\($0.method) \($0.url)" })")
    for number in 0..<clean.log.count {
      for failure in Self.failures {
        let faulty = seed.copy(faults: [.nth(number, failure)])
        let what = "\(operation), request \(number) (\(clean.log[number].method) \(clean.log[number].url)), \(failure)"
        do {
          #expect(try await operation.run(makeClient(faulty)) == expected, "\(what)")
        } catch {
          Issue.record("\(what): \(error)")
        }
        #expect(faulty.pendingFaults.isEmpty, "\(what): the fault was not met")
        #expect(faulty.contents == clean.contents, "\(what)")
      }
    }
  }

  /// The registry an operation starts from, made anew.
  static func registry(_ start: SweptOperation.Start) async throws -> FakeRegistry {
    switch start {
    case .empty: return FakeRegistry()
    case .emptyImmutable: return FakeRegistry(ecr: true, immutableTags: true)
    case .holdingApp:
      let fake = FakeRegistry()
      let layout = try ArchiveSource.open(path: fixtures + "/oci-layout", image: nil)
      _ = try await copy(layout, to: makeClient(fake), "app", ["1"])
      return fake
    }
  }

  /// The engine each operation uses; with `soci`, every gzip layer gets a zTOC.
  static func engine(soci: Bool = false) -> CopyEngine {
    var options = CopyOptions()
    options.concurrency = 1
    options.retryPolicy = quickPolicy(3)
    if soci {
      var settings = SociSettings()
      settings.minLayerSize = 0
      options.soci = settings
      options.compression = .gzip(BlockGzip(level: 1, blockSize: settings.spanSize))
    }
    return CopyEngine(options: options)
  }

  /// Copies `source` to `repository` of the client's registry under `tags`; returns the stored digest.
  static func copy(
    _ source: any ImageSource, to client: RegistryClient, _ repository: String, _ tags: [String], soci: Bool = false
  ) async throws -> String {
    let destination = RegistryDestination(client: client, repository: repository, chunkSize: 64 << 10)
    return try await engine(soci: soci).run([
      ImageCopy(source: { source }, targets: [CopyTarget(destination: destination, tags: tags)])
    ])[0].digest.description
  }
}
