import AsyncHTTPClient
import NIOCore
import Testing

@testable import Transport

@Suite struct TrustStoreTests {
  /// `SSL_CERT_FILE` is read at the first HTTPS request, so plain-HTTP runs never pay for it; a bad one is
  /// refused there in one line.
  @Test func aBadTrustStoreIsRefusedAtTheFirstHTTPSRequestOnly() async throws {
    var options = TransportOptions()
    options.trustStoreFile = "/nonexistent/ca-bundle.pem"
    let transport = try HTTPTransport(options: options)
    await #expect(throws: ConnectionFailure.self) {
      _ = try await transport.send(
        HTTPClientRequest(url: "http://127.0.0.1:9/v2/"), timeout: .seconds(5), resend: .never)
    }
    let refusal = await #expect(throws: TransportError.self) {
      _ = try await transport.send(
        HTTPClientRequest(url: "https://127.0.0.1:9/v2/"), timeout: .seconds(5), resend: .never)
    }
    #expect(refusal?.description == "SSL_CERT_FILE /nonexistent/ca-bundle.pem: not a readable PEM certificate file")
    await transport.shutdown()
  }
}
