import Foundation
import NIOCore
import OCI

/// The one place that says which failures may pass if the request is sent again, and which may have come
/// after the server acted, for registry and AWS answers alike.
public enum PassingFailure {
  /// Statuses that say the request may succeed if sent again: 408, 429, and 5xx except 501.
  public static func status(_ status: UInt) -> Bool {
    status == 408 || status == 429 || ((500...599).contains(status) && status != 501)
  }

  /// The AWS error codes that mean throttling, which AWS sends with HTTP 400 as often as with 429 (the
  /// SDKs' list, without service quotas, which do not pass).
  public static let throttlingCodes: Set<String> = [
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
  ]

  /// Whether an answer says its request may pass later: by its status, or a 400 whose body names a
  /// throttling code.
  public static func answer(status: UInt, body: ByteBuffer) -> Bool {
    if Self.status(status) { return true }
    guard status == 400, let code = awsCode(in: Data(body.readableBytesView)) else { return false }
    return throttlingCodes.contains(code)
  }

  /// Whether an answer is the server throttling: a 429, or a 400 or 503 naming an AWS throttling code
  /// (S3's `SlowDown` is a 503). A plain 503 is a server unavailable, not a pace.
  public static func throttles(status: UInt, awsCode: String?) -> Bool {
    if status == 429 { return true }
    guard status == 400 || status == 503, let awsCode else { return false }
    return throttlingCodes.contains(awsCode)
  }

  /// `throttles(status:awsCode:)` with the code read from the answer's body.
  public static func throttles(status: UInt, body: ByteBuffer) -> Bool {
    throttles(status: status, awsCode: awsCode(in: Data(body.readableBytesView)))
  }

  /// Whether an answer asks every request to the server to slow down, for the request limiter: a throttle,
  /// or a 503 (a server shedding load).
  public static func slowsDown(status: UInt, awsCode: String?) -> Bool {
    status == 503 || throttles(status: status, awsCode: awsCode)
  }

  /// The error code an AWS answer names in its `x-amzn-ErrorType` header (`ThrottlingException:http://…`).
  public static func awsCode(header: String) -> String { String(header.split(separator: ":").first ?? "") }

  /// Whether the server may have done what the request asked although no answer came whole: the
  /// connection broke or timed out after the request went out, or a 5xx came (a proxy's, perhaps, in front
  /// of a server that did the work). A connection that was never made, a 408 or a 429 did nothing.
  public static func mayHaveActed(status: UInt) -> Bool { (500...599).contains(status) }

  /// See `mayHaveActed(status:)`.
  public static func mayHaveActed(_ error: any Error) -> Bool {
    guard let failure = error as? ConnectionFailure else { return !(error is CancellationError) }
    switch failure.kind {
    case .refused, .connectTimeout, .unknownHost, .nameServerUnavailable, .untrustedCertificate, .tlsHandshake:
      return false
    case .closed, .readTimeout, .other:
      return true
    }
  }

  /// The error code of an AWS error answer: JSON `__type` (without its namespace) or `code`, or XML `<Code>`.
  public static func awsCode(in body: Data) -> String? {
    if let object = JSONValue.read(body)?.object {
      guard let type = object["__type"]?.string ?? object["code"]?.string else { return nil }
      return String(type.split(separator: "#").last ?? Substring(type))
    }
    let text = String(decoding: body, as: UTF8.self)
    guard let start = text.range(of: "<Code>"),
      let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex)
    else { return nil }
    return String(text[start.upperBound..<end.lowerBound])
  }
}
