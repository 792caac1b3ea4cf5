import AsyncAlgorithms
import AsyncHTTPClient
import NIOCore

/// A request body written while the request is being sent, holding at most one piece per writer ahead of
/// the socket.
///
/// AsyncHTTPClient takes a piece at once while it believes the connection writable, and learns otherwise
/// only when the connection's event loop has run the writes queued before: a writer on another thread,
/// faster than the socket, could queue hundreds of pieces meanwhile (16 MiB for the four layers of an OCI
/// layout's push, per heaptrack). `write` returns once every event loop of `HTTPTransport` has caught up.
public struct StreamedBody: Sendable {
  let channel = AsyncChannel<ByteBuffer>()

  public init() {}

  /// The body to set on the request; `length` is its `Content-Length`, or nil for a chunked body.
  public func body(length: Int64?) -> HTTPClientRequest.Body {
    .stream(channel, length: length.map { .known($0) } ?? .unknown)
  }

  /// Hands a piece to the request and waits until the transport has queued it on its socket.
  public func write(_ piece: ByteBuffer) async {
    await channel.send(piece)
    let caughtUp = HTTPTransport.eventLoops.makeIterator().map { $0.submit {} }
    for loop in caughtUp { try? await loop.get() }
  }

  /// Ends the body; a writer waiting in `write` returns.
  public func finish() { channel.finish() }
}
