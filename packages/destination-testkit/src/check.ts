import type { ResolvedConformanceOptions } from './options.js';

/**
 * One conformance check: a plain async function that throws when the destination
 * misbehaves. Groups register them as vitest tests; the testkit's self-test calls
 * them directly to prove that a broken destination fails them.
 */
export interface ConformanceCheck {
  name: string;
  run(options: ResolvedConformanceOptions): Promise<void>;
}
