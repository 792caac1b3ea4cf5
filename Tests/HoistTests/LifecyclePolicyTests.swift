import Foundation
import OCI
import Testing

@testable import Hoist

@Suite struct LifecyclePolicyTests {
  func problem(_ json: String) -> String? {
    LifecyclePolicyShape.problem(in: JSONValue.read(Data(json.utf8)) ?? .null)
  }

  let untagged =
    #"{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}"#
  let releases =
    #"{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPrefixList":["release-"],"countType":"imageCountMoreThan","countNumber":30},"action":{"type":"expire"}}"#

  @Test func thePoliciesECRDocumentsPass() {
    #expect(problem(#"{"rules":[\#(untagged),\#(releases)]}"#) == nil)
  }

  @Test func eachMistakeIsNamedByRuleAndField() {
    #expect(problem(#"{"rules":[]}"#) == "rules: a list of at least one rule")
    #expect(problem(#"{"rules":[\#(untagged),\#(untagged)]}"#) == "rules[1].rulePriority: 1 is given twice")
    #expect(
      problem(#"{"rules":[\#(untagged.replacingOccurrences(of: "\"days\"", with: "\"weeks\""))]}"#)
        == "rules[0].selection.countUnit: days")
    #expect(
      problem(#"{"rules":[\#(releases.replacingOccurrences(of: "\"tagPrefixList\":[\"release-\"],", with: ""))]}"#)
        == "rules[0].selection.tagPrefixList: a tagged rule needs tagPrefixList or tagPatternList")
    #expect(
      problem(#"{"rules":[\#(releases.replacingOccurrences(of: "expire", with: "delete"))]}"#)
        == "rules[0].action.type: expire")
    #expect(
      problem(#"{"rules":[\#(releases.replacingOccurrences(of: "30", with: "0"))]}"#)
        == "rules[0].selection.countNumber: a whole number from 1")
  }
}
