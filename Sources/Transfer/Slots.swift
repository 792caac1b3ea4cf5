/// A counting semaphore for tasks: at most `count` holders at once, the others wait in order.
actor Slots {
  private var free: Int
  private var waiting = [CheckedContinuation<Void, Never>]()

  init(count: Int) { free = max(1, count) }

  /// Waits for a slot and takes it.
  func acquire() async {
    if free > 0 {
      free -= 1
      return
    }
    await withCheckedContinuation { waiting.append($0) }
  }

  /// Takes a slot if one is free at once.
  func tryAcquire() -> Bool {
    guard free > 0 else { return false }
    free -= 1
    return true
  }

  /// Gives a slot back, to the longest waiter if there is one.
  func release() {
    if waiting.isEmpty {
      free += 1
    } else {
      waiting.removeFirst().resume()
    }
  }
}
