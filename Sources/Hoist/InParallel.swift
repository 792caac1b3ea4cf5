import OCI

/// Runs `body` on every input, at most `width` at once, and returns the results in the inputs' order.
func inParallel<Input: Sendable, Output: Sendable>(
  _ inputs: [Input], width: Int, _ body: @escaping @Sendable (Input) async -> Output
) async -> [Output] {
  var results = [Output?](repeating: nil, count: inputs.count)
  var pending = inputs.enumerated()[...]
  await runBounded(width: width) { () -> (@Sendable () async -> (Int, Output))? in
    guard let (position, input) = pending.popFirst() else { return nil }
    return { (position, await body(input)) }
  } finished: { (position, output) in
    results[position] = output
  }
  // Every task ends (none can throw), so every place is filled.
  return results.compactMap { $0 }
}
