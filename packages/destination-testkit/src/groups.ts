import type { ConformanceCheck } from './check.js';
import { atomicityChecks } from './checks/atomicity.js';
import { closeChecks } from './checks/close.js';
import { concurrencyChecks } from './checks/concurrency.js';
import { deletionChecks } from './checks/deletion.js';
import { errorChecks } from './checks/errors.js';
import { ifAbsentChecks } from './checks/if-absent.js';
import { listChecks } from './checks/list.js';
import { overwriteChecks } from './checks/overwrite.js';
import { putGetChecks } from './checks/put-get.js';
import { statChecks } from './checks/stat.js';
import { type ConformanceOptions, resolveOptions } from './options.js';

/** Every check by group, for callers that want to run one directly (the testkit's self-test does). */
export const conformanceChecks = {
  putGet: putGetChecks,
  atomicity: atomicityChecks,
  overwrite: overwriteChecks,
  ifAbsent: ifAbsentChecks,
  list: listChecks,
  stat: statChecks,
  deletion: deletionChecks,
  errors: errorChecks,
  concurrency: concurrencyChecks,
  close: closeChecks,
} as const satisfies Record<string, readonly ConformanceCheck[]>;

export type ConformanceGroup = keyof typeof conformanceChecks;

const titles: Record<ConformanceGroup, string> = {
  putGet: 'put/get',
  atomicity: 'atomicity',
  overwrite: 'overwrite',
  ifAbsent: 'put if absent',
  list: 'list',
  stat: 'stat',
  deletion: 'delete',
  errors: 'errors',
  concurrency: 'concurrency',
  close: 'check and close',
};

/**
 * Registers the conformance suite for one plugin with the given runner: every
 * group, or only those named in `groups`.
 */
export function runDestinationConformance(
  options: ConformanceOptions,
  groups: readonly ConformanceGroup[] = Object.keys(conformanceChecks) as ConformanceGroup[],
): void {
  const { runner } = options;
  const resolved = resolveOptions(options);
  runner.describe(`destination conformance: ${options.name}`, () => {
    for (const group of groups) {
      runner.describe(titles[group], () => {
        for (const check of conformanceChecks[group]) {
          if (check.applies && !check.applies(resolved)) continue;
          runner.it(check.name, () => check.run(resolved), resolved.timeoutMs);
        }
      });
    }
  });
}
