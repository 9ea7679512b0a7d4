/**
 * The two functions the suite needs from a test runner. vitest's, jest's, mocha's
 * and node:test's `describe`/`it` all fit: `it(name, fn, timeoutMs)` is how vitest,
 * jest and mocha take a timeout, and node:test ignores the extra argument.
 */
export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): unknown;
}
