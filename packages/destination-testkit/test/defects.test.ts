import {
  type ConformanceGroup,
  type ConformanceOptions,
  conformanceChecks,
  resolveOptions,
} from '@matric-backup/destination-testkit';
import type { DestinationCapabilities } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { type brokenDestination, brokenPlugin, type Defects } from './broken-destination.js';

const SUBSECOND: DestinationCapabilities = { subsecondModified: true };

function options(
  defects: Defects,
  capabilities: DestinationCapabilities = SUBSECOND,
  extra: Partial<ConformanceOptions> = {},
) {
  const created: { last?: ReturnType<typeof brokenDestination> } = {};
  return resolveOptions({
    name: 'broken in-memory',
    plugin: brokenPlugin(defects, capabilities, created),
    config: () => ({ credentials: 'right' }),
    badCredentials: () => ({ credentials: 'wrong' }),
    rawList: async () => created.last?.raw() ?? [],
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
const cases: Array<[string, Defects, ConformanceGroup, string, RegExp, DestinationCapabilities?]> = [
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
  ['upload listed while in flight', { listsUploads: true }, 'atomicity', 'in flight', /list\(""\)/],
  ['onProgress never called', { noProgress: true }, 'putGet', 'progress', /never called/],
  ['modified cut to seconds', { secondsModified: true }, 'stat', 'precision', /whole second/],
  ['deleteMany forgets a key', { deleteManyForgets: true }, 'deletion', 'deleteMany', /list\(""\)/],
  ['check() ignores credentials', { ignoresCredentials: true }, 'close', 'wrong credentials', /resolved/],
  ['list stops at 1,000 keys', { listsOnePage: true }, 'list', 'beyond 1,000', /count/],
  ['list by folder instead of prefix', { listsByFolder: true }, 'list', 'list(prefix)', /list\("p"\)/],
  ['untyped NOT_FOUND', { untypedNotFound: true }, 'errors', 'missing key', /expected a DestinationError/],
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
    { subsecondModified: true, exclusiveCreate: true },
  ],
  [
    'declared maxObjectSize not enforced',
    {},
    'putGet',
    '5 MiB',
    /expected a rejection/,
    { maxObjectSize: 1024 * 1024 },
  ],
];

describe('the testkit catches broken destinations', () => {
  for (const [what, defects, group, name, message, capabilities] of cases) {
    it(what, { timeout: 15_000 }, async () => {
      const broken = options(defects, capabilities);
      // The same check passes on the destination without the defect, so it is the defect that fails it.
      await check(group, name).run(
        options(
          {},
          capabilities?.maxObjectSize ? { ...capabilities, maxObjectSize: undefined } : capabilities,
        ),
      );
      await expect(check(group, name).run(broken)).rejects.toThrow(message);
    });
  }
});

describe('the config goes through the plugin schema', () => {
  it('a config the schema refuses fails with the key path', async () => {
    const bad = options({}, SUBSECOND, { config: () => ({ credentials: 7, extra: true }) });
    await expect(check('stat', 'present key').run(bad)).rejects.toThrow(
      /does not match its configSchema:\n {2}credentials: .*\n {2}\(the block\): .*extra/,
    );
  });
});

describe('declared capabilities are asserted, not skipped', () => {
  it('a destination that refuses objects over its declared maxObjectSize passes the large round trip', async () => {
    const limited = options({ refuseAbove: 1024 * 1024 }, { maxObjectSize: 1024 * 1024 });
    await check('putGet', '5 MiB').run(limited);
    await check('putGet', '1 B').run(limited);
  });

  it('the precision check is registered only when sub-second modified is declared', () => {
    const precision = check('stat', 'precision');
    expect(precision.applies?.(options({}, {}))).toBe(false);
    expect(precision.applies?.(options({}))).toBe(true);
  });
});
