/// Runs `body` on every input, at most `width` at once, and returns the results in the inputs' order.
func inParallel<Input: Sendable, Output: Sendable>(
  _ inputs: [Input], width: Int, _ body: @escaping @Sendable (Input) async -> Output
) async -> [Output] {
  await withTaskGroup(of: (Int, Output).self) { group in
    var results = [Output?](repeating: nil, count: inputs.count)
    var next = 0
    func startNext() {
      guard next < inputs.count else { return }
      let position = next
      next += 1
      group.addTask { (position, await body(inputs[position])) }
    }
    for _ in 0..<max(1, width) { startNext() }
    while let (position, output) = await group.next() {
      results[position] = output
      startNext()
    }
    return results.map { $0! }
  }
}
