import { describe, it } from 'vitest';
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

function register(title: string, checks: readonly ConformanceCheck[], options: ConformanceOptions) {
  const resolved = resolveOptions(options);
  describe(title, () => {
    for (const check of checks) it(check.name, { timeout: resolved.timeoutMs }, () => check.run(resolved));
  });
}

/** Round trips of 0 B, 1 B, 5 MiB and largeObjectSize; nested, spaced and unicode keys. */
export const putGet = (options: ConformanceOptions) => register('put/get', putGetChecks, options);
/** Failed and aborted puts leave no key and no temporary object; a failed overwrite keeps the old content. */
export const atomicity = (options: ConformanceOptions) => register('atomicity', atomicityChecks, options);
/** put over an existing key replaces it. */
export const overwrite = (options: ConformanceOptions) => register('overwrite', overwriteChecks, options);
/** put with ifAbsent never replaces an existing key (ALREADY_EXISTS); atomic when exclusiveCreate is declared. */
export const ifAbsent = (options: ConformanceOptions) => register('ifAbsent', ifAbsentChecks, options);
/** Prefixes, nesting, sizes, modified dates and listings beyond 1,000 keys. */
export const list = (options: ConformanceOptions) => register('list', listChecks, options);
/** stat of present, absent and folder-like keys. */
export const stat = (options: ConformanceOptions) => register('stat', statChecks, options);
/** Idempotent delete. */
export const deletion = (options: ConformanceOptions) => register('delete', deletionChecks, options);
/** NOT_FOUND and INVALID_KEY. */
export const errors = (options: ConformanceOptions) => register('errors and keys', errorChecks, options);
/** Concurrent puts of different keys. */
export const concurrency = (options: ConformanceOptions) =>
  register('concurrency', concurrencyChecks, options);
/** check() and close() twice. */
export const close = (options: ConformanceOptions) => register('check and close', closeChecks, options);

/** Registers the whole conformance suite with vitest for one destination. */
export function runDestinationConformance(options: ConformanceOptions): void {
  describe(`destination conformance: ${options.name}`, () => {
    putGet(options);
    atomicity(options);
    overwrite(options);
    ifAbsent(options);
    list(options);
    stat(options);
    deletion(options);
    errors(options);
    concurrency(options);
    close(options);
  });
}
