import Foundation
import Mirror

/// What one sync run did, as `--report FILE` writes it: one JSON document per run, which a later step
/// merges (`jq -s`) when a mirror ran as shards.
public struct SyncReport: Codable, Sendable, Equatable {
  public struct Copied: Codable, Sendable, Equatable {
    public var image: String
    public var digest: String
    /// The bytes sent for it (blobs found or mounted at the destination cost none).
    public var bytes: Int64
  }

  public struct AlreadyThere: Codable, Sendable, Equatable {
    public var image: String
    public var digest: String
  }

  public struct Failed: Codable, Sendable, Equatable {
    /// The image, or the `registry/repository` of an entry whose tags could not be listed.
    public var image: String
    public var error: String
  }

  /// `INDEX/COUNT` when the run was one shard of a mirror.
  public var shard: String?
  public var seconds: Double
  public var copied = [Copied]()
  public var alreadyThere = [AlreadyThere]()
  public var failed = [Failed]()
  /// The bytes sent in all.
  public var bytes: Int64 = 0

  /// The report of a run that ended with `outcomes` after `seconds`.
  public init(_ outcomes: [SyncPlan.Outcome], shard: Shard?, seconds: Double) {
    self.shard = shard?.description
    self.seconds = (seconds * 1000).rounded() / 1000
    for outcome in outcomes {
      switch outcome {
      case .copied(let image, let digest, let bytes):
        copied.append(Copied(image: image, digest: digest.description, bytes: bytes))
        self.bytes += bytes
      case .alreadyThere(let image, let digest):
        alreadyThere.append(AlreadyThere(image: image, digest: digest.description))
      case .failed(let image, let place, let error):
        failed.append(Failed(image: image, error: (place.map { "\($0): " } ?? "") + oneLine(error)))
      }
    }
  }

  /// `N copied, N already there, N failed`.
  public var summary: String { "\(copied.count) copied, \(alreadyThere.count) already there, \(failed.count) failed" }

  /// The report as the JSON file `--report` writes, as `JSONText` writes JSON.
  public func json() throws -> String { try JSONText.pretty(encoding: self) + "\n" }
}
