import OCI

/// What ECR accepts as a lifecycle policy, checked before it is sent, so that a mistake is one line naming
/// the rule and the field rather than ECR's `InvalidParameterException`.
enum LifecyclePolicyShape {
  /// The first thing wrong with the policy, as `rules[N].FIELD: what it must be`, or nil.
  static func problem(in policy: JSONValue) -> String? {
    guard let rules = policy["rules"]?.array, !rules.isEmpty else { return "rules: a list of at least one rule" }
    var priorities = Set<Int>()
    for (position, item) in rules.enumerated() {
      let at = "rules[\(position)]"
      guard let rule = item.object else { return "\(at): an object" }
      guard let priority = rule["rulePriority"]?.wholeNumber, priority >= 1 else {
        return "\(at).rulePriority: a whole number from 1"
      }
      guard priorities.insert(priority).inserted else { return "\(at).rulePriority: \(priority) is given twice" }
      guard rule["action"]?["type"]?.string == "expire" else {
        return "\(at).action.type: expire"
      }
      guard let selection = rule["selection"]?.object else { return "\(at).selection: an object" }
      if let problem = problem(inSelection: selection) { return "\(at).selection.\(problem)" }
    }
    return nil
  }

  private static func problem(inSelection selection: [String: JSONValue]) -> String? {
    let status = selection["tagStatus"]?.string
    guard let status, ["tagged", "untagged", "any"].contains(status) else {
      return "tagStatus: tagged, untagged or any"
    }
    let prefixes = selection["tagPrefixList"]?.array ?? []
    let patterns = selection["tagPatternList"]?.array ?? []
    if status == "tagged" && prefixes.isEmpty && patterns.isEmpty {
      return "tagPrefixList: a tagged rule needs tagPrefixList or tagPatternList"
    }
    guard let number = selection["countNumber"]?.wholeNumber, number >= 1 else {
      return "countNumber: a whole number from 1"
    }
    switch selection["countType"]?.string {
    case "imageCountMoreThan": return selection["countUnit"] == nil ? nil : "countUnit: only with sinceImagePushed"
    case "sinceImagePushed": return selection["countUnit"]?.string == "days" ? nil : "countUnit: days"
    default: return "countType: imageCountMoreThan or sinceImagePushed"
    }
  }
}
