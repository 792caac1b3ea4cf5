import Foundation

/// Turns SIGINT and SIGTERM into the cancellation of a task, and remembers which signal came.
final class Interruption: @unchecked Sendable {
  private let lock = NSLock()
  private var signal: Int32?
  private var sources = [DispatchSourceSignal]()

  init<Success, Failure>(cancelling task: Task<Success, Failure>) {
    for number in [SIGINT, SIGTERM] {
      Foundation.signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [weak self] in
        self?.record(number)
        task.cancel()
      }
      source.resume()
      sources.append(source)
    }
  }

  private func record(_ number: Int32) {
    lock.lock()
    defer { lock.unlock() }
    if signal == nil { signal = number }
  }

  /// The signal that interrupted the run, if one did.
  var received: Int32? {
    lock.lock()
    defer { lock.unlock() }
    return signal
  }
}
