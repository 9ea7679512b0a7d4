import type { ResolvedConformanceOptions } from './options.js';

/**
 * One conformance check: a plain async function that throws when the destination
 * misbehaves. Groups register them with the author's test runner; the testkit's
 * self-test calls them directly to prove that a broken destination fails them.
 */
export interface ConformanceCheck {
  name: string;
  /** Registered only when this says so: for checks that need an optional input (bad credentials). */
  applies?(options: ResolvedConformanceOptions): boolean;
  run(options: ResolvedConformanceOptions): Promise<void>;
}
