/// Runs the tasks `next` hands out, at most `width` at once, and gives each one's output to `finished` as it
/// ends. `next` and `finished` run on the caller's task, so they may share its local state, and what
/// `finished` does may give `next` more to hand out. The first failure, of a task or of `finished`, cancels
/// the tasks still running and is thrown once they have ended. It runs on the caller's actor, if any.
public func runBounded<Output: Sendable, Failure: Error>(
  width: Int, isolation: isolated (any Actor)? = #isolation,
  next: () -> (@Sendable () async throws(Failure) -> Output)?,
  finished: (Output) throws(Failure) -> Void
) async throws(Failure) {
  let failure: Failure? = await withTaskGroup(of: Result<Output, Failure>.self, isolation: isolation) { group in
    func startNext() -> Bool {
      guard let task = next() else { return false }
      group.addTask {
        do throws(Failure) {
          return .success(try await task())
        } catch {
          return .failure(error)
        }
      }
      return true
    }
    for _ in 0..<max(1, width) {
      guard startNext() else { break }
    }
    while let result = await group.next() {
      do throws(Failure) {
        try finished(try result.get())
      } catch {
        group.cancelAll()
        return error
      }
      _ = startNext()
    }
    return nil
  }
  if let failure { throw failure }
}
