import Testing

@testable import OCI

@Suite struct RetryBudgetTests {
  let quick = RetryPolicy(attempts: 2, baseDelay: 0.001, maximumDelay: 0.002)

  @Test func failuresAndThrottlesDrawOnAllowancesOfTheirOwn() async {
    let budget = RetryBudget(policy: quick)
    #expect(await budget.retry(after: .transient))
    #expect(await budget.retry(after: .transient))
    #expect(!(await budget.retry(after: .transient)), "two retries after failures, then no more")
    for _ in 0..<quick.throttledAttempts { #expect(await budget.retry(after: .throttled)) }
    #expect(!(await budget.retry(after: .throttled)), "a server that never stops throttling is given up on")
    #expect(budget.attempts == 1 + 2 + 8)
    #expect(!(await RetryBudget(policy: quick).retry(after: .rejected)))
  }

  @Test func noRetriesMeansNoneAfterAThrottleEither() async {
    let budget = RetryBudget(policy: RetryPolicy(attempts: 0))
    #expect(!(await budget.retry(after: .throttled)))
  }
}
