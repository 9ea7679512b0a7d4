import {
  type ConformanceGroup,
  type ConformanceOptions,
  conformanceChecks,
  resolveOptions,
} from '@matric-backup/destination-testkit';
import { describe, expect, it } from 'vitest';
import { type Defects, memoryDestination } from './memory-destination.js';

function options(defects: Defects, extra: Partial<ConformanceOptions> = {}) {
  let current = memoryDestination(defects);
  return resolveOptions({
    name: 'broken in-memory',
    factory: async () => (current = memoryDestination(defects)),
    capabilities: { serverSideRename: true },
    rawList: async () => current.raw(),
    manyKeys: 1100,
    ...extra,
  });
}

function check(group: ConformanceGroup, nameFragment: string) {
  const found = conformanceChecks[group].find((candidate) => candidate.name.includes(nameFragment));
  if (!found) throw new Error(`no check in ${group} named like ${nameFragment}`);
  return found;
}

// Each broken destination must fail the check that guards the broken promise, with a message naming it.
const cases: Array<[string, Defects, ConformanceGroup, string, RegExp, Partial<ConformanceOptions>?]> = [
  [
    'non-atomic put',
    { nonAtomicPut: true },
    'atomicity',
    'errors half-way',
    /stat finds the key of a failed put/,
  ],
  [
    'non-atomic overwrite',
    { nonAtomicPut: true },
    'atomicity',
    'failed put over an existing key',
    /wrong number of bytes|different bytes/,
  ],
  ['leaked temporary object', { leaksTemporary: true }, 'atomicity', 'errors half-way', /rawList/],
  ['ignored AbortSignal', { ignoresAbort: true }, 'atomicity', 'aborted half-way', /ignored its AbortSignal/],
  ['list stops at 1,000 keys', { listsOnePage: true }, 'list', 'beyond 1,000', /count/],
  ['list by folder instead of prefix', { listsByFolder: true }, 'list', 'list(prefix)', /list\("p"\)/],
  ['untyped NOT_FOUND', { untypedNotFound: true }, 'errors', 'missing key', /wrong error code/],
  [
    'delete of a missing key throws',
    { deleteMissingThrows: true },
    'deletion',
    'idempotent',
    /cannot delete/,
  ],
  ['close twice throws', { closeOnce: true }, 'close', 'twice', /already closed/],
  [
    'ifAbsent ignored',
    { ignoresIfAbsent: true },
    'ifAbsent',
    'refuses an existing one',
    /expected a rejection/,
  ],
  [
    'ifAbsent not atomic though exclusiveCreate is declared',
    { checksIfAbsentEarly: true },
    'ifAbsent',
    'racing',
    /must get ALREADY_EXISTS/,
    { capabilities: { serverSideRename: true, exclusiveCreate: true } },
  ],
  [
    'declared maxObjectSize not enforced',
    {},
    'putGet',
    '5 MiB',
    /expected a rejection/,
    { capabilities: { serverSideRename: true, maxObjectSize: 1024 * 1024 } },
  ],
];

describe('the testkit catches broken destinations', () => {
  for (const [what, defects, group, name, message, extra] of cases) {
    it(what, { timeout: 15_000 }, async () => {
      await expect(check(group, name).run(options(defects, extra))).rejects.toThrow(message);
    });
  }
});

describe('declared capabilities are asserted, not skipped', () => {
  it('a destination that refuses objects over its declared maxObjectSize passes the large round trip', async () => {
    const limited = options(
      { refuseAbove: 1024 * 1024 },
      { capabilities: { serverSideRename: true, maxObjectSize: 1024 * 1024 } },
    );
    await check('putGet', '5 MiB').run(limited);
    await check('putGet', '1 B').run(limited);
  });
});
