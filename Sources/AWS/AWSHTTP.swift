import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OCI
import Transport

/// Sends AWS API requests through the request path (retries included, as the AWS SDKs retry): signs them
/// (when given a signer) and turns error answers into `AWSError`s.
public struct AWSHTTP: Sendable {
  let path: any HTTPSender
  let retryPolicy: RetryPolicy

  /// Requests go through `RequestPath.over(base, options:)`.
  public init(over base: any HTTPSender, options: TransportOptions) {
    path = RequestPath.over(base, options: options)
    retryPolicy = options.retryPolicy
  }

  /// One HTTP exchange; `signer` nil sends it unsigned (STS web identity, IMDS, SSO portal). `retried`
  /// false sends it once, for probes whose failure is an answer (is this an EC2 instance?); `budget` is
  /// the tries it draws on (nil: its own).
  func send(
    method: HTTPMethod, url: URL, headers: [(String, String)] = [], body: [UInt8] = [], signer: SigV4Signer?,
    operation: String, timeout: TimeAmount = .seconds(30), retried: Bool = true, budget: RetryBudget? = nil
  ) async throws -> (status: Int, body: Data) {
    guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false), let host = components.host else {
      throw AWSError.transport(operation: operation, reason: "bad endpoint URL \(url)")
    }
    var request = HTTPClientRequest(url: url.absoluteString)
    request.method = method
    var allHeaders = headers
    if let signer {
      let defaultPort = components.scheme == "https" ? 443 : 80
      let hostHeader = components.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
      let query = (components.percentEncodedQueryItems ?? []).map {
        ($0.name.removingPercentEncoding ?? $0.name, $0.value?.removingPercentEncoding ?? "")
      }
      let signable = SigV4Signer.Request(
        method: method.rawValue, path: components.percentEncodedPath, query: query,
        headers: allHeaders + [("Host", hostHeader)], payload: body)
      allHeaders += signer.sign(signable, date: Date())
    }
    for (name, value) in allHeaders { request.headers.add(name: name, value: value) }
    if !body.isEmpty || method == .POST || method == .PUT {
      request.body = .bytes(ByteBuffer(bytes: body))
      request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
    }
    do {
      let rule = (retried ? Resend.asIs : .never).drawing(on: budget)
      let response = try await path.send(request, timeout: timeout, resend: rule)
      let data = try await response.body.collect(upTo: 8 << 20)
      return (Int(response.status.code), Data(buffer: data))
    } catch let failure as ConnectionFailure {
      throw AWSError.unreachable(operation: operation, host: host, failure)
    } catch let error as CategorizedError {
      throw error
    } catch is CancellationError {
      throw CancellationError()
    } catch is NIOTooManyBytesError {
      throw AWSError.transport(operation: operation, reason: "the answer from \(host) is over 8 MiB")
    } catch {
      throw AWSError.unreachable(operation: operation, host: host, ConnectionFailure(error))
    }
  }

  /// A call in the AWS JSON 1.1 protocol (ECR): POST `/` with `X-Amz-Target`; returns the answer decoded.
  func json<Answer: Decodable>(
    endpoint: URL, target: String, body: [String: JSONValue], signer: SigV4Signer, operation: String,
    answer: Answer.Type
  ) async throws -> Answer {
    let payload = try JSONEncoder().encode(body)
    let budget = RetryBudget(policy: retryPolicy)
    let (status, data) = try await send(
      method: .POST, url: endpoint,
      headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target)],
      body: Array(payload), signer: signer, operation: operation, budget: budget)
    guard status == 200 else {
      let tried = budget.attempts > 1 ? " (tried \(budget.attempts) times)" : ""
      throw Self.error(status: status, body: data, operation: operation + tried)
    }
    do {
      return try JSONDecoder().decode(Answer.self, from: data)
    } catch {
      throw AWSError.transport(operation: operation, reason: "the answer is not the JSON expected (\(error))")
    }
  }

  /// An error answer in JSON (`__type`, `message`) or XML (`<Code>`, `<Message>`) form.
  static func error(status: Int, body: Data, operation: String) -> AWSError {
    let text = String(decoding: body, as: UTF8.self)
    guard let code = PassingFailure.awsCode(in: body) else {
      return .service(operation: operation, code: "HTTP\(status)", message: String(text.prefix(200)), status: status)
    }
    let object = try? JSONDecoder().decode(ErrorAnswer.self, from: body)
    let message = object.map { $0.message ?? $0.capitalMessage ?? "" }
    return .service(
      operation: operation, code: code, message: message ?? xmlValue("Message", in: text) ?? "", status: status)
  }
}

/// An AWS error answer in JSON form, as far as hoist reads it.
struct ErrorAnswer: Decodable {
  var message: String?
  /// `Message`, as some services write it.
  var capitalMessage: String?

  enum CodingKeys: String, CodingKey {
    case message
    case capitalMessage = "Message"
  }
}

/// The text of the first `<tag>…</tag>` in an XML document (AWS query-protocol answers are flat enough).
func xmlValue(_ tag: String, in text: String) -> String? {
  guard let start = text.range(of: "<\(tag)>"),
    let end = text.range(of: "</\(tag)>", range: start.upperBound..<text.endIndex)
  else { return nil }
  return String(text[start.upperBound..<end.lowerBound])
    .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
    .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
    .replacingOccurrences(of: "&amp;", with: "&")
}

/// Parses the timestamps AWS uses: ISO 8601 with or without fractional seconds.
func parseDate(_ text: String) -> Date? {
  let formatter = ISO8601DateFormatter()
  if let date = formatter.date(from: text) { return date }
  formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
  return formatter.date(from: text)
}
