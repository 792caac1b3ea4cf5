import OCI
import Transfer

/// A combination of options or inputs a plan refuses, saying what to do instead.
public struct PlanError: CategorizedError, CustomStringConvertible, Equatable {
  public let description: String

  public init(_ description: String) { self.description = description }

  public var category: ErrorCategory { .invalidInput }
}

/// The rules more than one plan checks, each written once.
public enum PlanRules {
  /// How many blobs a job may move at once.
  public static let concurrency = 1...64

  /// The smallest upload chunk a user may ask for (ECR's smallest part).
  public static let minimumChunkSize = 5 << 20

  /// Refuses a `--concurrency` outside `concurrency`.
  public static func check(concurrency: Int) throws(PlanError) {
    guard Self.concurrency.contains(concurrency) else {
      throw PlanError(
        "--concurrency must be between \(Self.concurrency.lowerBound) and \(Self.concurrency.upperBound)")
    }
  }

  /// Refuses referrers together with an option that changes manifest digests (`conflict`, when set):
  /// referrers name their subject by digest, so it must stay.
  public static func check(referrers: ReferrerSelection?, against conflict: String?) throws(PlanError) {
    if referrers != nil, let conflict {
      throw PlanError(
        "--referrers keeps every digest, which \(conflict) would change; referrers name their images by digest")
    }
  }

  /// Refuses referrers into a `dir:` folder, which holds one image and nothing else.
  public static func check(referrers: ReferrerSelection?, into location: ImageLocation, verb: String) throws(PlanError)
  {
    if referrers != nil, location.isDirFolder {
      throw PlanError("a dir: folder holds one image and no referrers; \(verb) to an OCI layout or archive")
    }
  }
}

extension CopyOptions {
  /// These options carrying `referrers` (nil: none), every digest then kept.
  public func carrying(_ referrers: ReferrerSelection?) -> CopyOptions {
    var options = self
    options.referrers = referrers
    if referrers != nil { options.keepDigests = true }
    return options
  }
}
