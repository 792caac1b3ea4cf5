import Foundation

/// What ECR accepts as a lifecycle policy, checked before it is sent, so that a mistake is one line naming
/// the rule and the field rather than ECR's `InvalidParameterException`.
enum LifecyclePolicyShape {
  /// The first thing wrong with the policy, as `rules[N].FIELD: what it must be`, or nil.
  static func problem(in policy: [String: Any]) -> String? {
    guard let rules = policy["rules"] as? [Any], !rules.isEmpty else { return "rules: a list of at least one rule" }
    var priorities = Set<Int>()
    for (position, item) in rules.enumerated() {
      let at = "rules[\(position)]"
      guard let rule = item as? [String: Any] else { return "\(at): an object" }
      guard let priority = rule["rulePriority"] as? Int, priority >= 1 else {
        return "\(at).rulePriority: a whole number from 1"
      }
      guard priorities.insert(priority).inserted else { return "\(at).rulePriority: \(priority) is given twice" }
      guard (rule["action"] as? [String: Any])?["type"] as? String == "expire" else {
        return "\(at).action.type: expire"
      }
      guard let selection = rule["selection"] as? [String: Any] else { return "\(at).selection: an object" }
      if let problem = problem(inSelection: selection) { return "\(at).selection.\(problem)" }
    }
    return nil
  }

  private static func problem(inSelection selection: [String: Any]) -> String? {
    let status = selection["tagStatus"] as? String
    guard let status, ["tagged", "untagged", "any"].contains(status) else {
      return "tagStatus: tagged, untagged or any"
    }
    let prefixes = selection["tagPrefixList"] as? [String] ?? []
    let patterns = selection["tagPatternList"] as? [String] ?? []
    if status == "tagged" && prefixes.isEmpty && patterns.isEmpty {
      return "tagPrefixList: a tagged rule needs tagPrefixList or tagPatternList"
    }
    guard let number = selection["countNumber"] as? Int, number >= 1 else {
      return "countNumber: a whole number from 1"
    }
    switch selection["countType"] as? String {
    case "imageCountMoreThan": return selection["countUnit"] == nil ? nil : "countUnit: only with sinceImagePushed"
    case "sinceImagePushed": return selection["countUnit"] as? String == "days" ? nil : "countUnit: days"
    default: return "countType: imageCountMoreThan or sinceImagePushed"
    }
  }
}
