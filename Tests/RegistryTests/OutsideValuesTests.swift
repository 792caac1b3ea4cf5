import Foundation
import OCI
import Testing

@testable import Transport

/// Values from outside (environment, config files, answers) that used to trap or hang hoist.
@Suite struct OutsideValuesTests {
  @Test func aURLFromOutsideIsCheckedNotForced() throws {
    #expect(CheckedURL.parse("https://api.ecr.eu-west-1.amazonaws.com/")?.host == "api.ecr.eu-west-1.amazonaws.com")
    #expect(CheckedURL.parse("http://127.0.0.1:5000")?.port == 5000)
    for bad in ["http://a b", "https://sts.us east-1.amazonaws.com/", "ftp://x", "http://", "x", "http://a\u{7}b", ""] {
      #expect(CheckedURL.parse(bad) == nil, "\(bad)")
    }
    #expect(throws: BadSetting.self) { try CheckedURL.make("http://a b", from: "AWS_ENDPOINT_URL") }
  }

  @Test func aRetryAfterThatIsNoNumberOfSecondsIsIgnored() {
    #expect(Retries.seconds(retryAfter: "3") == 3)
    for bad in ["nan", "inf", "-inf", "-5", "1e400", "soon"] {
      #expect(Retries.seconds(retryAfter: bad) == nil, "\(bad)")
    }
  }

  @Test func aListingWhoseNextPageRepeatsStops() throws {
    var trail = PageTrail(limit: 3)
    try trail.visit("a", listing: "tags")
    try trail.visit("b", listing: "tags")
    #expect(throws: PaginationError.self) { try trail.visit("a", listing: "tags") }
    try trail.visit("c", listing: "tags")
    #expect(throws: PaginationError.self) { try trail.visit("d", listing: "tags") }
  }

  @Test func aHelperGivesItsOutputAndStatus() throws {
    let helper = HelperProcess(
      arguments: ["/bin/sh", "-c", "cat; echo; exit 3"], timeout: 10, mergeStandardError: true)
    let outcome = try helper.run(input: Data("secret".utf8))
    #expect(outcome.status == 3)
    #expect(String(decoding: outcome.output, as: UTF8.self) == "secret\n")
  }

  @Test func aHelperThatNeverEndsIsStoppedWithItsChildren() throws {
    let started = Date()
    let helper = HelperProcess(
      arguments: ["/bin/sh", "-c", "sleep 8 & sleep 8"], timeout: 1, mergeStandardError: true)
    #expect(throws: HelperProcess.Failure.timedOut(seconds: 1)) { try helper.run(input: Data()) }
    #expect(Date().timeIntervalSince(started) < 5)
  }

  @Test func aHelperWhoseChildKeepsItsOutputOpenDoesNotHang() throws {
    let started = Date()
    let helper = HelperProcess(
      arguments: ["/bin/sh", "-c", "sleep 20 & echo done"], timeout: 30, mergeStandardError: true)
    #expect(String(decoding: try helper.run(input: Data()).output, as: UTF8.self) == "done\n")
    #expect(Date().timeIntervalSince(started) < 10)
  }

  @Test func aMissingOrEndlessHelperIsNamed() throws {
    let missing = HelperProcess(arguments: ["hoist-no-such-helper"], timeout: 5, mergeStandardError: true)
    #expect(throws: HelperProcess.Failure.notFound) { try missing.run(input: Data("x".utf8)) }
    let endless = HelperProcess(arguments: ["/bin/sh", "-c", "yes"], timeout: 30, mergeStandardError: true)
    #expect(throws: HelperProcess.Failure.outputTooLong) { try endless.run(input: Data()) }
    #expect(throws: BadSetting.self) { try HelperProcess.timeout(from: ["HOIST_HELPER_TIMEOUT": "nan"]) }
    #expect(try HelperProcess.timeout(from: [:]) == 60)
  }
}
