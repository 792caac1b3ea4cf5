import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OCI

/// Why a request got no answer, told apart by the error types of the HTTP stack, never by their text.
public struct ConnectionFailure: CategorizedError, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The server's certificate is not trusted or does not name the host.
    case untrustedCertificate
    /// The TLS handshake failed otherwise (most often: the port does not speak TLS).
    case tlsHandshake
    /// The host name does not exist.
    case unknownHost
    /// The name server did not answer for now (`EAI_AGAIN`): a passing failure, unlike `unknownHost`.
    case nameServerUnavailable
    case refused
    case connectTimeout
    /// The server closed the connection, or it broke, before the answer was whole.
    case closed
    /// No answer within the read timeout.
    case readTimeout
    /// Anything else the stack reported.
    case other
  }

  public var kind: Kind
  /// What the stack said, for the cases hoist has no words of its own for.
  public var detail: String

  public init(kind: Kind, detail: String) {
    self.kind = kind
    self.detail = detail
  }

  /// Classifies an error thrown by AsyncHTTPClient, NIO or NIOSSL.
  public init(_ error: any Error) {
    detail = String(describing: error)
    switch error {
    case let error as HTTPClientError:
      switch error {
      case .connectTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
        kind = .connectTimeout
      case .readTimeout, .writeTimeout, .deadlineExceeded: kind = .readTimeout
      case .remoteConnectionClosed, .uncleanShutdown: kind = .closed
      default: kind = .other
      }
    case let error as NIOConnectionError:
      let unresolved = error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil)
      kind = unresolved ? Self.resolution(of: error.host) : .refused
    case SocketAddressError.unknown(let host, _): kind = Self.resolution(of: host)
    case is SocketAddressError: kind = .unknownHost
    case let error as IOError:
      kind = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode) ? .refused : .closed
    case is NIOSSLExtraError: kind = .untrustedCertificate
    case let error as NIOSSLError:
      if case .handshakeFailed(let reason) = error, "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
        kind = .untrustedCertificate
      } else {
        kind = .tlsHandshake
      }
    case is ChannelError: kind = .closed
    default: kind = .other
    }
  }

  /// Why a name did not resolve: NIO says only that it did not, so the resolver is asked once more and
  /// its answer read, as Go's resolver tells a missing name from a name server that did not answer.
  static func resolution(of host: String) -> Kind {
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, nil, nil, &result)
    if let result { freeaddrinfo(result) }
    return status == EAI_AGAIN ? .nameServerUnavailable : .unknownHost
  }

  /// Worth trying again: a connection that broke or timed out may not the next time; a certificate, a
  /// handshake or a host name will fail the same way.
  public var category: ErrorCategory {
    switch kind {
    case .untrustedCertificate, .tlsHandshake, .unknownHost: .invalidInput
    case .refused, .connectTimeout, .closed, .readTimeout, .nameServerUnavailable, .other: .transient
    }
  }

  public var description: String {
    switch kind {
    case .untrustedCertificate:
      "its TLS certificate is not trusted (add its CA with --ca-file, or skip verification with --insecure)"
    case .tlsHandshake: "the TLS handshake failed; if it does not speak TLS on this port, use --plain-http"
    case .unknownHost: "unknown host"
    case .nameServerUnavailable: "the name server did not answer"
    case .refused: "connection refused"
    case .connectTimeout: "connection timed out"
    case .closed: "the connection was closed by the server"
    case .readTimeout: "timed out waiting for an answer"
    case .other: detail
    }
  }
}
