/// An Amazon ECR registry host, with the account and region its name carries.
public struct ECRHost: Sendable, Equatable {
  /// The 12-digit account; empty for ECR Public.
  public var account: String
  public var region: String
  public var fips: Bool
  /// `public.ecr.aws`.
  public var isPublic: Bool
  /// The partition's DNS suffix: `amazonaws.com` or `amazonaws.com.cn`.
  public var dnsSuffix: String

  /// Recognises `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`, `<account>.dkr-ecr.<region>.on.aws`
  /// and `public.ecr.aws`, each with or without a port; nil for any other host.
  public init?(host: String) {
    let name = host.split(separator: ":").first.map { $0.lowercased() } ?? ""
    if name == "public.ecr.aws" {
      self.init(account: "", region: "us-east-1", fips: false, isPublic: true, dnsSuffix: "amazonaws.com")
      return
    }
    let labels = name.split(separator: ".").map(String.init)
    guard labels.count >= 5, labels[0].count == 12, labels[0].allSatisfy(\.isNumber) else { return nil }
    let tail = labels[2...].joined(separator: ".")
    if labels[1] == "dkr", labels[2] == "ecr" || labels[2] == "ecr-fips", labels.count >= 6,
      tail.hasSuffix(".amazonaws.com") || tail.hasSuffix(".amazonaws.com.cn")
    {
      let suffix = tail.hasSuffix(".cn") ? "amazonaws.com.cn" : "amazonaws.com"
      self.init(
        account: labels[0], region: labels[3], fips: labels[2] == "ecr-fips", isPublic: false, dnsSuffix: suffix)
    } else if labels[1] == "dkr-ecr", labels.count == 5, labels[3] == "on", labels[4] == "aws" {
      self.init(account: labels[0], region: labels[2], fips: false, isPublic: false, dnsSuffix: "amazonaws.com")
    } else {
      return nil
    }
  }

  /// The caller's own private registry in a region (the API picks the account from the credentials).
  public init(region: String) {
    self.init(
      account: "", region: region, fips: false, isPublic: false,
      dnsSuffix: region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com")
  }

  init(account: String, region: String, fips: Bool, isPublic: Bool, dnsSuffix: String) {
    self.account = account
    self.region = region
    self.fips = fips
    self.isPublic = isPublic
    self.dnsSuffix = dnsSuffix
  }

  /// The signing name and API host of the ECR API this registry belongs to.
  var service: String { isPublic ? "ecr-public" : "ecr" }

  /// The default API endpoint for the registry's region and partition.
  var defaultEndpoint: String {
    if isPublic { return "https://api.ecr-public.us-east-1.amazonaws.com/" }
    return fips ? "https://ecr-fips.\(region).\(dnsSuffix)/" : "https://api.ecr.\(region).\(dnsSuffix)/"
  }
}
