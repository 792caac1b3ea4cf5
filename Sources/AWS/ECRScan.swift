import Foundation
import OCI

/// ECR's image scans (basic, and enhanced through Amazon Inspector): start one, read its status and
/// findings.
extension ECRClient {
  /// One vulnerability a scan found, as either kind of scan reports it.
  public struct Finding: Sendable, Equatable, Codable {
    /// The vulnerability's id (`CVE-2024-1234`).
    public var name: String
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL`, `UNDEFINED` or `UNTRIAGED`.
    public var severity: String
    /// The affected package, `name version`, where the scan names it.
    public var package: String?
    public var uri: String?

    public init(name: String, severity: String, package: String? = nil, uri: String? = nil) {
      (self.name, self.severity, self.package, self.uri) = (name, severity, package, uri)
    }

    /// A basic scan's finding: the package in its attributes.
    init(basic finding: ECRAnswer.ScanFindings.BasicFinding) {
      var attributes = [String: String]()
      for attribute in finding.attributes ?? [] {
        guard let key = attribute.key, attributes[key] == nil else { continue }
        attributes[key] = attribute.value ?? ""
      }
      let package = [attributes["package_name"], attributes["package_version"]].compactMap { $0 }
      self.init(
        name: finding.name ?? "", severity: finding.severity ?? "UNDEFINED",
        package: package.isEmpty ? nil : package.joined(separator: " "), uri: finding.uri)
    }

    /// An enhanced scan's finding: the package in its vulnerability details.
    init(enhanced finding: ECRAnswer.ScanFindings.EnhancedFinding) {
      let details = finding.packageVulnerabilityDetails
      let package = details?.vulnerablePackages?.first.map {
        [$0.name, $0.version].compactMap { $0 }.joined(separator: " ")
      }
      self.init(
        name: details?.vulnerabilityId ?? finding.title ?? "", severity: finding.severity ?? "UNDEFINED",
        package: package, uri: details?.sourceUrl)
    }
  }

  /// One page of a scan's report: its status, the counts by severity, findings, and the next page's token.
  public struct ScanPage: Sendable {
    /// `IN_PROGRESS`, `COMPLETE`, `FAILED`, `UNSUPPORTED_IMAGE` (basic), `PENDING`, `ACTIVE`,
    /// `SCAN_ELIGIBILITY_EXPIRED`, `FINDINGS_UNAVAILABLE` (enhanced).
    public var status: String
    public var statusDescription: String?
    public var digest: String?
    public var counts: [String: Int]
    public var findings: [Finding]
    public var nextToken: String?
  }

  /// `StartImageScan` (basic scanning): starts a scan of the image a tag or digest names. A scan already
  /// made today (`LimitExceededException`) is no failure.
  public func startImageScan(_ name: String, image: ImageID) async throws {
    do {
      _ = try await call(
        "StartImageScan", ["repositoryName": .string(name), "imageId": image.fields], about: "\(name)\(image)")
    } catch AWSError.service(_, "LimitExceededException", _, _) {
      return
    }
  }

  /// `DescribeImageScanFindings`: one page of the image's scan; nil when the image has never been scanned.
  public func imageScanFindings(_ name: String, image: ImageID, nextToken: String? = nil) async throws -> ScanPage? {
    var body: [String: JSONValue] = ["repositoryName": .string(name), "imageId": image.fields, "maxResults": 1000]
    if let nextToken { body["nextToken"] = .string(nextToken) }
    let answer: ECRAnswer.ScanFindings
    do {
      answer = try await call(
        "DescribeImageScanFindings", body, about: "\(name)\(image)", answer: ECRAnswer.ScanFindings.self)
    } catch AWSError.service(_, "ScanNotFoundException", _, _) {
      return nil
    }
    let report = answer.imageScanFindings
    let basic = (report?.findings ?? []).map(Finding.init(basic:))
    let enhanced = (report?.enhancedFindings ?? []).map(Finding.init(enhanced:))
    return ScanPage(
      status: answer.imageScanStatus?.status ?? "UNKNOWN", statusDescription: answer.imageScanStatus?.description,
      digest: answer.imageId?.imageDigest, counts: report?.findingSeverityCounts ?? [:],
      findings: basic + enhanced, nextToken: answer.nextToken)
  }

  /// An image of a repository, by tag or by digest, as ECR's API names it.
  public enum ImageID: Sendable, CustomStringConvertible {
    case tag(String)
    case digest(String)

    var fields: JSONValue {
      switch self {
      case .tag(let tag): ["imageTag": .string(tag)]
      case .digest(let digest): ["imageDigest": .string(digest)]
      }
    }

    public var description: String {
      switch self {
      case .tag(let tag): ":\(tag)"
      case .digest(let digest): "@\(digest)"
      }
    }
  }
}
