import Foundation
import NIOCore
import Synchronization
import Testing

@testable import Transport

@Suite struct StreamedBodyTests {
  /// The bound on what a fast writer queues: a piece's write waits for every event loop to run what was
  /// handed to it before, such as the writes of earlier pieces.
  @Test func aWriteReturnsOnceTheEventLoopsRanWhatWasQueuedBefore() async {
    let body = StreamedBody()
    let taken = Task {
      var bytes = 0
      for await piece in body.channel { bytes += piece.readableBytes }
      return bytes
    }
    let loops = Array(HTTPTransport.eventLoops.makeIterator())
    let ran = Atomic<Int>(0)
    for loop in loops {
      loop.execute {
        Thread.sleep(forTimeInterval: 0.05)
        ran.add(1, ordering: .relaxed)
      }
    }
    await body.write(ByteBuffer(bytes: [1, 2, 3]))
    #expect(ran.load(ordering: .relaxed) == loops.count)
    body.finish()
    #expect(await taken.value == 3)
  }
}
