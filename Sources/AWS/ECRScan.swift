import Foundation

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
    init(basic object: [String: Any]) {
      let attributes = Dictionary(
        ((object["attributes"] as? [[String: Any]]) ?? []).compactMap { attribute in
          (attribute["key"] as? String).map { ($0, attribute["value"] as? String ?? "") }
        }, uniquingKeysWith: { first, _ in first })
      let package = [attributes["package_name"], attributes["package_version"]].compactMap { $0 }
      self.init(
        name: object["name"] as? String ?? "", severity: object["severity"] as? String ?? "UNDEFINED",
        package: package.isEmpty ? nil : package.joined(separator: " "), uri: object["uri"] as? String)
    }

    /// An enhanced scan's finding: the package in its vulnerability details.
    init(enhanced object: [String: Any]) {
      let details = object["packageVulnerabilityDetails"] as? [String: Any] ?? [:]
      let package = ((details["vulnerablePackages"] as? [[String: Any]]) ?? []).first.map {
        [$0["name"] as? String, $0["version"] as? String].compactMap { $0 }.joined(separator: " ")
      }
      self.init(
        name: details["vulnerabilityId"] as? String ?? object["title"] as? String ?? "",
        severity: object["severity"] as? String ?? "UNDEFINED", package: package,
        uri: details["sourceUrl"] as? String)
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
      _ = try await call("StartImageScan", ["repositoryName": name, "imageId": image.fields], about: "\(name)\(image)")
    } catch AWSError.service(_, "LimitExceededException", _, _) {
      return
    }
  }

  /// `DescribeImageScanFindings`: one page of the image's scan; nil when the image has never been scanned.
  public func imageScanFindings(_ name: String, image: ImageID, nextToken: String? = nil) async throws -> ScanPage? {
    var body: [String: Any] = ["repositoryName": name, "imageId": image.fields, "maxResults": 1000]
    if let nextToken { body["nextToken"] = nextToken }
    let answer: [String: Any]
    do {
      answer = try await call("DescribeImageScanFindings", body, about: "\(name)\(image)")
    } catch AWSError.service(_, "ScanNotFoundException", _, _) {
      return nil
    }
    let status = answer["imageScanStatus"] as? [String: Any] ?? [:]
    let report = answer["imageScanFindings"] as? [String: Any] ?? [:]
    let basic = (report["findings"] as? [[String: Any]] ?? []).map(Finding.init(basic:))
    let enhanced = (report["enhancedFindings"] as? [[String: Any]] ?? []).map(Finding.init(enhanced:))
    return ScanPage(
      status: status["status"] as? String ?? "UNKNOWN", statusDescription: status["description"] as? String,
      digest: (answer["imageId"] as? [String: Any])?["imageDigest"] as? String,
      counts: (report["findingSeverityCounts"] as? [String: Any] ?? [:]).compactMapValues {
        ($0 as? NSNumber)?.intValue
      },
      findings: basic + enhanced, nextToken: answer["nextToken"] as? String)
  }

  /// An image of a repository, by tag or by digest, as ECR's API names it.
  public enum ImageID: Sendable, CustomStringConvertible {
    case tag(String)
    case digest(String)

    var fields: [String: String] {
      switch self {
      case .tag(let tag): ["imageTag": tag]
      case .digest(let digest): ["imageDigest": digest]
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
