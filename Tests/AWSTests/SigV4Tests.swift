import Foundation
import Testing

@testable import AWS

/// Cases from the AWS Signature Version 4 test suite (credentials AKIDEXAMPLE, 2015-08-30, us-east-1,
/// service "service"): the request, then the expected signed headers and signature.
@Suite struct SigV4Tests {
  let signer = SigV4Signer(
    credentials: AWSCredentials(
      accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", source: "test"),
    region: "us-east-1", service: "service")
  let date = "20150830T123600Z"
  let base = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]

  func expect(_ request: SigV4Signer.Request, signed: String, signature: String) {
    let authorization = signer.authorization(request, amzDate: date)
    #expect(
      authorization
        == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        + "SignedHeaders=\(signed), Signature=\(signature)")
  }

  @Test func postVanilla() {
    expect(
      .init(method: "POST", path: "/", headers: base, payload: []), signed: "host;x-amz-date",
      signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
  }

  @Test func queryOrderKeyCase() {
    expect(
      .init(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: base, payload: []),
      signed: "host;x-amz-date", signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
  }

  @Test func emptyQueryKey() {
    expect(
      .init(method: "GET", path: "/", query: [("Param1", "value1")], headers: base, payload: []),
      signed: "host;x-amz-date", signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb")
  }

  @Test func queryUnreserved() {
    let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    expect(
      .init(method: "GET", path: "/", query: [(unreserved, unreserved)], headers: base, payload: []),
      signed: "host;x-amz-date", signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")
  }

  @Test func headerValueTrim() {
    let headers = [
      ("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""),
      ("X-Amz-Date", date),
    ]
    expect(
      .init(method: "GET", path: "/", headers: headers, payload: []), signed: "host;my-header1;my-header2;x-amz-date",
      signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
  }

  @Test func formURLEncodedBody() {
    expect(
      .init(
        method: "POST", path: "/", headers: [("Content-Type", "application/x-www-form-urlencoded")] + base,
        payload: Array("Param1=value1".utf8)),
      signed: "content-type;host;x-amz-date",
      signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
  }

  @Test func sessionTokenSignedBefore() {
    let token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
    expect(
      .init(method: "POST", path: "/", headers: base + [("X-Amz-Security-Token", token)], payload: []),
      signed: "host;x-amz-date;x-amz-security-token",
      signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
  }

  @Test func signAddsDateTokenAndAuthorization() throws {
    var credentials = signer.credentials
    credentials.sessionToken = "session"
    let headers = SigV4Signer(credentials: credentials, region: "us-east-1", service: "ecr").sign(
      .init(method: "POST", path: "/", headers: [("Host", "api.ecr.us-east-1.amazonaws.com")], payload: []),
      date: Date(timeIntervalSince1970: 1_440_938_160))
    #expect(headers.map(\.0) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
    #expect(headers[0].1 == "20150830T123600Z")
    #expect(headers[2].1.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"))
  }
}
