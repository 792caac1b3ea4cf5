import AWS
import ECR
import Foundation
import OCI

/// What `hoist scan` does, as a value: read (and if need be start, and wait for) ECR's scan of an image,
/// and judge its findings against a severity.
public struct ScanPlan: Sendable {
  public var reference: Reference
  /// Wait until the scan is complete, for at most `timeout` seconds.
  public var wait = false
  public var timeout: Double = 600
  /// The severity at or above which findings fail the gate.
  public var failOn: Severity?
  /// Which image of an index the tag names to scan; needed only when the index holds several.
  public var platform: Platform?
  /// Seconds before the second look at a scan in progress; each later wait is half as long again, up to
  /// `longestPoll`.
  public var firstPoll = 5.0
  static let longestPoll = 30.0

  public init(reference: Reference) { self.reference = reference }

  public func validate() throws(PlanError) {
    guard ECRHost(host: reference.registry) != nil else {
      throw PlanError("hoist scan reads Amazon ECR's image scans; \(reference.registry) is not an ECR registry")
    }
    guard timeout > 0 else { throw PlanError("--timeout must be above 0") }
  }

  /// The image as ECR's API names it: by digest, else by tag (`latest` when none is given).
  var image: ECRClient.ImageID {
    reference.digest.map { .digest($0.description) } ?? .tag(reference.manifestReference)
  }

  /// The image to scan in what the reference names: itself, or for an image index (which ECR does not
  /// scan), its image of `platform`, or its only image (an image with its SOCI index beside it).
  func scanned(in root: RootDocument) throws -> ECRClient.ImageID {
    guard DeclaredType(document: root.bytes)?.isIndex == true else { return image }
    let index = try Index.decode(root.bytes, what: "\(reference): index")
    let images = index.manifests.filter { !SociIndex.isIndexEntry($0) && $0.platform?.os != "unknown" }
    if let platform {
      guard let chosen = images.first(where: { platform.matches($0.platform) }) else {
        throw MissingPlatform(
          source: reference.description, wanted: platform.description,
          available: images.compactMap { $0.platform?.description })
      }
      return .digest(chosen.digest.description)
    }
    guard images.count == 1 else {
      throw PlanError(
        "\(reference) names an index of \(images.count) images; name one with --platform ("
          + images.compactMap { $0.platform?.description }.joined(separator: ", ") + ")")
    }
    return .digest(images[0].digest.description)
  }

  /// Where a scan with this status stands.
  enum Stage: Equatable {
    case inProgress
    case complete
    case failed
  }

  static func stage(of status: String) -> Stage {
    switch status {
    case "COMPLETE", "ACTIVE": .complete
    case "IN_PROGRESS", "PENDING": .inProgress
    default: .failed
    }
  }

  /// The waits between looks at a scan in progress, until `timeout` seconds are spent.
  func polls() -> [Double] {
    var (waits, spent, next) = ([Double](), 0.0, firstPoll)
    while spent < timeout {
      waits.append(min(next, timeout - spent))
      spent += waits.last!
      next = min(next * 1.5, Self.longestPoll)
    }
    return waits
  }

  /// How many of the report's findings fail the gate: those at or above `failOn` (none without it).
  public func failing(_ report: ScanReport) -> Int { failOn.map(report.findings(atOrAbove:)) ?? 0 }

  /// Reads the scan; starts a basic one when the image has none (a repository that does not scan on push),
  /// and with `wait` looks again until it is complete. `note` hears what is going on.
  public func run(in session: Session, note: @escaping @Sendable (String) -> Void) async throws -> ScanReport {
    let api = try await session.ecrAPI(for: reference.registry, command: "hoist scan")
    let repository = reference.repository
    let image = try scanned(in: try await session.source(.registry(reference), platform: .all).root())
    var page = try await api.imageScanFindings(repository, image: image)
    if page == nil {
      try await api.startImageScan(repository, image: image)
      note("started a basic scan of \(reference)")
      page = try await api.imageScanFindings(repository, image: image)
    }
    var waits = wait ? polls()[...] : []
    while Self.stage(of: page?.status ?? "IN_PROGRESS") == .inProgress, let delay = waits.popFirst() {
      note("scan of \(reference): \(page?.status ?? "IN_PROGRESS"), looking again in \(Int(delay.rounded())) s")
      try await pause(seconds: delay)
      page = try await api.imageScanFindings(repository, image: image)
    }
    let status = page?.status ?? "IN_PROGRESS"
    switch Self.stage(of: status) {
    case .inProgress where wait || failOn != nil:
      throw ScanError.notComplete(image: reference.description, status: status, waited: wait ? timeout : nil)
    case .inProgress:
      return ScanReport(image: reference.description, digest: page?.digest, status: status, counts: [:], findings: [])
    case .failed:
      throw ScanError.failed(image: reference.description, status: status, reason: page?.statusDescription)
    case .complete: break
    }
    var findings = page?.findings ?? []
    var next = page?.nextToken
    var trail = PageTrail()
    while let token = next, findings.count < 100_000 {
      try trail.visit(token, listing: "findings of the scan of \(reference)")
      let more = try await api.imageScanFindings(repository, image: image, nextToken: token)
      findings += more?.findings ?? []
      next = more?.nextToken
    }
    return ScanReport(
      image: reference.description, digest: page?.digest, status: status, counts: page?.counts ?? [:],
      findings: findings)
  }
}

/// How bad a finding is, in ECR's words, least first.
public enum Severity: String, CaseIterable, Comparable, Sendable, Codable {
  case undefined = "UNDEFINED"
  case untriaged = "UNTRIAGED"
  case informational = "INFORMATIONAL"
  case low = "LOW"
  case medium = "MEDIUM"
  case high = "HIGH"
  case critical = "CRITICAL"

  /// A severity as a flag gives it, in any case.
  public init?(flag: String) { self.init(rawValue: flag.uppercased()) }

  public static func < (a: Severity, b: Severity) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// A finished scan: its counts by severity and its findings, worst first.
public struct ScanReport: Sendable, Codable, Equatable {
  public var image: String
  public var digest: String?
  public var status: String
  public var counts: [String: Int]
  public var findings: [ECRClient.Finding]

  public init(image: String, digest: String?, status: String, counts: [String: Int], findings: [ECRClient.Finding]) {
    (self.image, self.digest, self.status) = (image, digest, status)
    self.findings = findings.sorted {
      let (a, b) = (Severity(flag: $0.severity) ?? .undefined, Severity(flag: $1.severity) ?? .undefined)
      return a != b ? a > b : $0.name < $1.name
    }
    // Counts from the findings where the scan gave none (an enhanced scan may not).
    self.counts =
      counts.isEmpty ? Dictionary(grouping: findings, by: \.severity).mapValues(\.count) : counts
  }

  /// How many findings are at or above `level`.
  public func findings(atOrAbove level: Severity) -> Int {
    counts.reduce(0) { total, entry in total + ((Severity(flag: entry.key) ?? .undefined) >= level ? entry.value : 0) }
  }

  /// `CRITICAL 1, HIGH 3, …`, worst first, severities without findings left out.
  public var summary: String {
    let listed = Severity.allCases.reversed().compactMap { severity in
      counts[severity.rawValue].flatMap { $0 > 0 ? "\(severity.rawValue) \($0)" : nil }
    }
    return listed.isEmpty ? "no findings" : listed.joined(separator: ", ")
  }
}

/// A scan that cannot be judged.
public enum ScanError: CategorizedError, CustomStringConvertible {
  /// Still in progress: not waited for (`waited` nil), or not done within that many seconds.
  case notComplete(image: String, status: String, waited: Double?)
  /// ECR could not scan the image (`FAILED`, `UNSUPPORTED_IMAGE`, …).
  case failed(image: String, status: String, reason: String?)

  public var category: ErrorCategory {
    switch self {
    case .notComplete: .transient
    case .failed: .rejected
    }
  }

  public var description: String {
    switch self {
    case .notComplete(let image, let status, nil):
      "the scan of \(image) is not complete (\(status)); give --wait to wait for it"
    case .notComplete(let image, let status, let waited?):
      "the scan of \(image) did not complete within \(Int(waited)) s (\(status)); give a longer --timeout"
    case .failed(let image, let status, let reason):
      "ECR could not scan \(image): \(status)\(reason.map { ": \($0)" } ?? "")"
    }
  }
}
