import Foundation

/// ECR's answers as far as hoist reads them. Every member is optional and a null reads as absent, so an
/// answer with fewer members than the API documents (moto's, ECR Public's) still reads.
enum ECRAnswer {
  /// An answer whose members hoist does not read.
  struct Ignored: Decodable {}

  struct AuthorizationData: Decodable {
    var authorizationToken: String?
    var expiresAt: Double?
  }

  /// `GetAuthorizationToken`: ECR answers a list of logins, ECR Public one.
  struct Authorization: Decodable {
    var data: AuthorizationData?

    enum CodingKeys: String, CodingKey { case authorizationData }

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      if let list = try? container.decodeIfPresent([AuthorizationData].self, forKey: .authorizationData) {
        data = list.first
      } else {
        data = try container.decodeIfPresent(AuthorizationData.self, forKey: .authorizationData)
      }
    }
  }

  struct Repository: Decodable {
    struct Scanning: Decodable { var scanOnPush: Bool? }
    var repositoryName: String?
    var repositoryUri: String?
    var imageTagMutability: String?
    var imageScanningConfiguration: Scanning?
    var createdAt: Double?
  }

  struct CreatedRepository: Decodable { var repository: Repository? }

  struct PolicyText: Decodable {
    var policyText: String?
    var lifecyclePolicyText: String?
  }

  struct ImageDetail: Decodable {
    var imageDigest: String?
    var imageTags: [String]?
    var imageSizeInBytes: Int64?
    var imagePushedAt: Double?
    var imageManifestMediaType: String?
  }

  struct BatchDelete: Decodable {
    struct Failure: Decodable {
      var failureCode: String?
      var failureReason: String?
    }
    var failures: [Failure]?
  }

  /// `DescribeImageScanFindings`.
  struct ScanFindings: Decodable {
    struct Status: Decodable {
      var status: String?
      var description: String?
    }
    struct ImageID: Decodable { var imageDigest: String? }
    struct Attribute: Decodable {
      var key: String?
      var value: String?
    }
    struct BasicFinding: Decodable {
      var name: String?
      var severity: String?
      var uri: String?
      var attributes: [Attribute]?
    }
    struct Package: Decodable {
      var name: String?
      var version: String?
    }
    struct Details: Decodable {
      var vulnerabilityId: String?
      var sourceUrl: String?
      var vulnerablePackages: [Package]?
    }
    struct EnhancedFinding: Decodable {
      var title: String?
      var severity: String?
      var packageVulnerabilityDetails: Details?
    }
    struct Report: Decodable {
      var findings: [BasicFinding]?
      var enhancedFindings: [EnhancedFinding]?
      var findingSeverityCounts: [String: Int]?
    }
    var imageScanStatus: Status?
    var imageScanFindings: Report?
    var imageId: ImageID?
    var nextToken: String?
  }
}

/// One page of a listing ECR answers in pages (`nextToken`).
protocol ECRPage: Decodable {
  associatedtype Item
  var items: [Item] { get }
  var nextToken: String? { get }
}

extension ECRAnswer {
  struct Repositories: ECRPage {
    var repositories: [Repository]?
    var nextToken: String?
    var items: [Repository] { repositories ?? [] }
  }

  struct Images: ECRPage {
    var imageDetails: [ImageDetail]?
    var nextToken: String?
    var items: [ImageDetail] { imageDetails ?? [] }
  }
}
