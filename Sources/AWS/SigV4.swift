import Foundation
import Streams

/// AWS Signature Version 4 (header form), as described in the AWS General Reference.
public struct SigV4Signer: Sendable {
  public var credentials: AWSCredentials
  public var region: String
  public var service: String

  public init(credentials: AWSCredentials, region: String, service: String) {
    self.credentials = credentials
    self.region = region
    self.service = service
  }

  /// A request to sign: `headers` must include `host`; `path` is already percent-encoded.
  public struct Request: Sendable {
    public var method: String
    public var path: String
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var payload: [UInt8]

    public init(
      method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payload: [UInt8]
    ) {
      self.method = method
      self.path = path
      self.query = query
      self.headers = headers
      self.payload = payload
    }
  }

  /// The headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token` when the credentials have a
  /// session token, and `Authorization`. Headers already in the request are signed as they are.
  public func sign(_ request: Request, date: Date) -> [(String, String)] {
    let amzDate = Self.timestamp(date)
    var request = request
    var added = [(String, String)]()
    if !request.headers.contains(where: { $0.0.lowercased() == "x-amz-date" }) {
      added.append(("X-Amz-Date", amzDate))
    }
    if let token = credentials.sessionToken,
      !request.headers.contains(where: { $0.0.lowercased() == "x-amz-security-token" })
    {
      added.append(("X-Amz-Security-Token", token))
    }
    request.headers += added
    added.append(("Authorization", authorization(request, amzDate: amzDate)))
    return added
  }

  /// The `Authorization` value for a request whose headers already hold `X-Amz-Date` (= `amzDate`).
  public func authorization(_ request: Request, amzDate: String) -> String {
    let day = String(amzDate.prefix(8))
    let scope = "\(day)/\(region)/\(service)/aws4_request"
    let (canonical, signedHeaders) = canonicalRequest(request)
    let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(hex(SHA256Hasher.hash(Array(canonical.utf8))))"
    var key = Array("AWS4\(credentials.secretAccessKey)".utf8)
    for part in [day, region, service, "aws4_request"] { key = HMACSHA256.mac(key: key, message: Array(part.utf8)) }
    let signature = hex(HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)))
    return
      "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
  }

  /// The canonical request and the signed-headers list.
  func canonicalRequest(_ request: Request) -> (String, String) {
    var headers = [String: [String]]()
    for (name, value) in request.headers {
      let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
      headers[name.lowercased(), default: []].append(collapsed.trimmingCharacters(in: .whitespaces))
    }
    let names = headers.keys.sorted()
    let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
    let signedHeaders = names.joined(separator: ";")
    let encoded: [(key: String, value: String)] = request.query.map { (Self.encode($0.0), Self.encode($0.1)) }
    let sorted = encoded.sorted { $0.key == $1.key ? $0.value < $1.value : $0.key < $1.key }
    let query = sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    let payloadHash = hex(SHA256Hasher.hash(request.payload))
    let path = request.path.isEmpty ? "/" : request.path
    return (
      "\(request.method)\n\(path)\n\(query)\n\(canonicalHeaders)\n\(signedHeaders)\n\(payloadHash)", signedHeaders
    )
  }

  /// `20150830T123600Z`.
  public static func timestamp(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    return formatter.string(from: date)
  }

  /// Percent-encodes everything but the unreserved characters `A-Z a-z 0-9 - _ . ~`.
  public static func encode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
        UInt8(ascii: "~"):
        out.append(Character(UnicodeScalar(byte)))
      default:
        out += String(format: "%%%02X", byte)
      }
    }
    return out
  }
}

func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 0x0f)])
  }
  return String(decoding: out, as: UTF8.self)
}
