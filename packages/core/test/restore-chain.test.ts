import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Destination } from '@matric-backup/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainTree } from '../src/restore/chain-tree.js';
import { restoreFromLocations, type ShardLocation } from '../src/restore/fallback.js';
import { openShardFile } from '../src/restore/file-source.js';
import { restoreShard } from '../src/restore/restore.js';
import { listShards } from '../src/shard/catalog.js';
import { chainChecker, resolveChain } from '../src/shard/chain.js';
import type { InnerManifest } from '../src/shard/manifest.js';
import { verifyShard } from '../src/shard/verify.js';
import { type BuildOptions, buildShard, type FixtureEntry, MTIME } from './fixtures/read/build-shard.js';
import { type MemoryDestination, memoryDestination } from './fixtures/read/memory-destination.js';
import { snapshot } from './fixtures/restore/snapshot.js';

const BASE = 'backup_20240517_103015_abcdefgh';
const INC1 = 'backup_20240518_103015_abcdefgh';
const INC2 = 'backup_20240519_103015_abcdefgh';
const DAY = 86_400_000;

/** The tree at each point in time, as a full shard of it would hold it. */
const t0: FixtureEntry[] = [
  { path: 'notes', type: 'directory', mode: 0o750 },
  { path: 'notes/keep.txt', type: 'file', content: 'keep\n' },
  { path: 'notes/mod.txt', type: 'file', content: 'v1\n' },
  { path: 'notes/gone.txt', type: 'file', content: 'bye\n' },
  { path: 'notes/old', type: 'directory' },
  { path: 'notes/old/x.txt', type: 'file', content: 'x\n' },
  { path: 'notes/link', type: 'symlink', target: 'keep.txt' },
  { path: 'notes/to-dir', type: 'file', content: 'a file for now\n' },
  { path: 'notes/to-file', type: 'directory' },
  { path: 'notes/to-file/in.txt', type: 'file', content: 'inside\n' },
  { path: 'notes/run.sh', type: 'file', content: 'echo\n', mode: 0o644 },
];
const t1: FixtureEntry[] = [
  { path: 'notes', type: 'directory', mode: 0o750, mtime: MTIME + DAY },
  { path: 'notes/keep.txt', type: 'file', content: 'keep\n' },
  { path: 'notes/mod.txt', type: 'file', content: 'v2, longer\n', mtime: MTIME + DAY },
  { path: 'notes/new.txt', type: 'file', content: 'new\n', mtime: MTIME + DAY },
  { path: 'notes/link', type: 'symlink', target: 'mod.txt', mtime: MTIME + DAY },
  { path: 'notes/to-dir', type: 'directory', mtime: MTIME + DAY },
  { path: 'notes/to-dir/in.txt', type: 'file', content: 'now a folder\n', mtime: MTIME + DAY },
  { path: 'notes/to-file', type: 'file', content: 'now a file\n', mtime: MTIME + DAY },
  { path: 'notes/run.sh', type: 'file', content: 'echo\n', mode: 0o755, mtime: MTIME + DAY },
];
/** What the first incremental holds: every folder, and what is new or changed. */
const inc1: FixtureEntry[] = t1.filter(
  (entry) => entry.type === 'directory' || entry.path !== 'notes/keep.txt',
);
const t2: FixtureEntry[] = [
  { path: 'notes', type: 'directory', mode: 0o700, mtime: MTIME + 2 * DAY },
  { path: 'notes/kept.txt', type: 'file', content: 'keep\n' },
  { path: 'notes/mod.txt', type: 'file', content: 'v2, longer\n', mtime: MTIME + DAY },
  { path: 'notes/new.txt', type: 'file', content: 'newer\n', mtime: MTIME + 2 * DAY },
  { path: 'notes/link', type: 'symlink', target: 'mod.txt', mtime: MTIME + DAY },
  { path: 'notes/to-file', type: 'file', content: 'now a file\n', mtime: MTIME + DAY },
  { path: 'notes/run.sh', type: 'file', content: 'echo\n', mode: 0o755, mtime: MTIME + DAY },
];
const inc2: FixtureEntry[] = [
  t2[0]!,
  t2.find((entry) => entry.path === 'notes/kept.txt')!,
  t2.find((entry) => entry.path === 'notes/new.txt')!,
];

async function storeChain(
  dest: Destination,
  origin?: string,
  inc1Extra: Partial<BuildOptions> = {},
): Promise<void> {
  // Where the source was read from, in both manifests (restore --in-place puts it back there).
  const origins = origin ? [{ name: 'notes', type: 'directory' as const, path: origin }] : undefined;
  const recorded = origins && {
    editInner: (inner: InnerManifest) => Object.assign(inner, { origins }),
    editSidecar: (sidecar: { origins?: unknown }) => Object.assign(sidecar, { origins }),
  };
  await buildShard(dest, { id: BASE, entries: t0, ...recorded });
  await buildShard(dest, {
    ...recorded,
    ...inc1Extra,
    id: INC1,
    entries: inc1,
    createdAt: MTIME + DAY,
    increment: { parent: BASE, base: BASE, length: 1, deleted: ['notes/gone.txt', 'notes/old'] },
  });
  await buildShard(dest, {
    ...recorded,
    id: INC2,
    entries: inc2,
    createdAt: MTIME + 2 * DAY,
    increment: { parent: INC1, base: BASE, length: 2, deleted: ['notes/keep.txt', 'notes/to-dir'] },
  });
}

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'matric-chain-'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

/** The tree a full shard of `entries` restores to: what the chain must restore to as well. */
async function expected(entries: FixtureEntry[], name: string): Promise<Record<string, string>> {
  const dest = memoryDestination();
  const built = await buildShard(dest, { id: 'backup_20240601_000000_zzzzzzzz', entries });
  const to = join(work, `expected-${name}`);
  await restoreShard({ from: dest, manifest: built.manifest, to });
  return snapshot(to);
}

async function chainOf(dest: Destination, id: string) {
  const { manifest, chain } = await (async () => {
    const sidecar = JSON.parse((await readAll(dest, `${id}.manifest.json`)).toString());
    return { manifest: sidecar, chain: await resolveChain(dest, sidecar) };
  })();
  return { manifest, chain };
}

async function readAll(dest: Destination, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await dest.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function locations(dests: Destination[]): ShardLocation[] {
  return dests.map((dest, index) => ({ name: `d${index + 1}`, open: async () => dest }));
}

describe('restoring an incremental shard', () => {
  it('restores every point in time of a chain exactly as a full shard of that tree', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    for (const [id, tree, name] of [
      [BASE, t0, 'base'],
      [INC1, t1, 'inc1'],
      [INC2, t2, 'inc2'],
    ] as const) {
      const { manifest, chain } = await chainOf(dest, id);
      const to = join(work, name);
      const result = await restoreShard({ from: dest, manifest, chain, to });
      expect(await snapshot(to), name).toEqual(await expected([...tree], name));
      expect(result.chain).toEqual(id === BASE ? undefined : chain.map((link) => link.id));
    }
  });

  it('restores a chain in place, over the folder as it is now', async () => {
    const place = join(work, 'place');
    const dest = memoryDestination();
    await storeChain(dest, place);
    await mkdir(join(place, 'old'), { recursive: true });
    await writeFile(join(place, 'mod.txt'), 'edited since\n');
    await writeFile(join(place, 'old/x.txt'), 'not in the shard any more\n');
    const { manifest, chain } = await chainOf(dest, INC2);
    const result = await restoreShard({ from: dest, manifest, chain, inPlace: true, conflict: 'overwrite' });
    expect(result.chain).toEqual([BASE, INC1, INC2]);
    const restored = await snapshot(place);
    const wanted = Object.fromEntries(
      Object.entries(await expected(t2, 'place')).flatMap(([path, line]) =>
        path.startsWith('notes/') ? [[path.slice('notes/'.length), line]] : [],
      ),
    );
    // What the tree at INC2 holds comes back as it was; what it does not hold is left alone.
    expect(restored).toMatchObject(wanted);
    expect(restored['old/x.txt']).toBeDefined();
  });

  it('resolves the chain on a destination, base first, and restores `latest` through it', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    const { chain } = await chainOf(dest, INC2);
    expect(chain.map((link) => link.id)).toEqual([BASE, INC1, INC2]);
    const to = join(work, 'latest');
    const result = await restoreFromLocations({ id: 'latest', locations: locations([dest]), to });
    expect(result.id).toBe(INC2);
    expect(await snapshot(to)).toEqual(await expected(t2, 'latest'));
  });

  it('applies --include, conflict strategies and --dry-run to the tree the chain adds up to', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    const { manifest, chain } = await chainOf(dest, INC1);

    const part = join(work, 'part');
    const included = await restoreShard({ from: dest, manifest, chain, to: part, include: ['notes/to-dir'] });
    expect(Object.keys(await snapshot(part))).toEqual(['notes', 'notes/to-dir', 'notes/to-dir/in.txt']);
    expect(included.files).toBe(1);

    const mine = join(work, 'mine');
    await mkdir(join(mine, 'notes'), { recursive: true });
    await writeFile(join(mine, 'notes/mod.txt'), 'my own\n');
    await writeFile(join(mine, 'notes/gone.txt'), 'still mine\n');
    const before = await snapshot(mine);
    const dry = await restoreShard({
      from: dest,
      manifest,
      chain,
      to: mine,
      conflict: 'skip_existing',
      dryRun: true,
    });
    expect(await snapshot(mine)).toEqual(before);
    const planned = Object.fromEntries(dry.changes.map((change) => [change.path, change.action]));
    expect(planned['notes/mod.txt']).toBe('skip');
    expect(planned['notes/new.txt']).toBe('create');
    // Deleted before this point in time: not part of the tree, so not restored (and what is there stays).
    expect(planned['notes/gone.txt']).toBeUndefined();
    expect(planned['notes/old/x.txt']).toBeUndefined();

    await restoreShard({ from: dest, manifest, chain, to: mine, conflict: 'skip_existing' });
    expect(await readFile(join(mine, 'notes/mod.txt'), 'utf8')).toBe('my own\n');
    expect(await readFile(join(mine, 'notes/gone.txt'), 'utf8')).toBe('still mine\n');
    expect(await readFile(join(mine, 'notes/to-dir/in.txt'), 'utf8')).toBe('now a folder\n');
  });

  it('falls back to another destination when a middle link is damaged or missing, naming it', async () => {
    const damaged = memoryDestination();
    const missing = memoryDestination();
    const hostile = memoryDestination();
    const good = memoryDestination();
    for (const dest of [damaged, missing, good]) await storeChain(dest);
    await storeChain(hostile, undefined, {
      raw: [{ header: { name: '../escaped.txt', type: 'file', size: 3 }, content: Buffer.from('out') }],
    });
    flipByte(damaged, `${INC1}.tar.zst`);
    await missing.delete(`${INC1}.manifest.json`);
    const fallbacks: Array<[string, string]> = [];
    const target = join(work, 'fallback');

    const result = await restoreFromLocations({
      id: INC2,
      locations: locations([damaged, missing, hostile, good]),
      to: target,
      onFallback: (name, error) => fallbacks.push([name, (error as Error).message]),
    });

    expect(result.destination).toBe('d4');
    expect(fallbacks.map(([name]) => name)).toEqual(['d1', 'd2', 'd3']);
    expect(fallbacks[2]![1]).toContain(
      `shard ${INC1} (link 2 of 3 of the chain of ${INC2}) is unsafe to restore`,
    );
    expect(await readdir(work)).not.toContain('escaped.txt');
    expect(fallbacks[0]![1]).toContain(
      `shard ${INC1} (link 2 of 3 of the chain of ${INC2}) failed its checks`,
    );
    expect(fallbacks[1]![1]).toContain(
      `the chain of incremental shard ${INC2} on destination d2 is broken at ${INC1}`,
    );
    expect(await snapshot(target)).toEqual(await expected(t2, 'fallback'));
  });

  it('blames an unreadable or absent middle archive on that link, not on the shard asked for, and falls back', async () => {
    const unreadable = memoryDestination();
    const absent = memoryDestination();
    const good = memoryDestination();
    for (const dest of [unreadable, absent, good]) await storeChain(dest);
    // Not a zstd frame any more: the decoder throws before any checksum is reached.
    unreadable.objects.get(`${INC1}.tar.zst`)!.bytes[0]! ^= 0xff;
    await absent.delete(`${INC1}.tar.zst`);
    const fallbacks: Array<[string, Error]> = [];
    const result = await restoreFromLocations({
      id: INC2,
      locations: locations([unreadable, absent, good]),
      to: join(work, 'named'),
      onFallback: (name, error) => fallbacks.push([name, error as Error]),
    });
    expect(result.destination).toBe('d3');
    expect(fallbacks.map(([name]) => name)).toEqual(['d1', 'd2']);
    for (const [, error] of fallbacks) {
      expect(error.message).toContain(`shard ${INC1} (link 2 of 3 of the chain of ${INC2})`);
      expect(error.message).toContain(`${INC1}.tar.zst`);
      expect(error.message).not.toContain(`${INC2}.tar.zst`);
    }
    expect(fallbacks[0]![1]).toMatchObject({
      code: 'VERIFY_FAILED',
      hint: expect.stringContaining(`verify ${INC1}`),
    });
    expect(await snapshot(join(work, 'named'))).toEqual(await expected(t2, 'named'));
  });

  it('leaves the target unchanged when the last destination has a broken chain', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    flipByte(dest, `${INC2}.tar.zst`);
    const target = join(work, 'kept');
    await mkdir(target);
    await writeFile(join(target, 'mine.txt'), 'mine\n');
    const before = await snapshot(target);
    await expect(
      restoreFromLocations({ id: INC2, locations: locations([dest]), to: target, conflict: 'overwrite' }),
    ).rejects.toMatchObject({ code: 'VERIFY_FAILED', message: expect.stringContaining(INC2) });
    expect(await snapshot(target)).toEqual(before);
    expect((await import('node:fs/promises').then((fs) => fs.readdir(work))).sort()).toEqual(['kept']);
  });

  it('refuses an incremental whose deleted paths lead out of the target, removing nothing (verify names them)', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    const victim = join(work, 'victim');
    await mkdir(victim);
    await writeFile(join(victim, 'precious.txt'), 'not in any shard\n');
    // Enough `..` to climb out of any temporary folder, then down to the victim.
    const leading = `notes/${'../'.repeat(64)}${victim.slice(1)}`;
    const hostile = 'backup_20240520_103015_abcdefgh';
    await buildShard(dest, {
      id: hostile,
      entries: inc2,
      createdAt: MTIME + 3 * DAY,
      increment: { parent: INC2, base: BASE, length: 3, deleted: [leading] },
    });
    const target = join(work, 'target');
    await expect(
      restoreFromLocations({ id: hostile, locations: locations([dest]), to: target }),
    ).rejects.toMatchObject({ code: 'VERIFY_FAILED', message: expect.stringContaining('path contains ..') });
    expect(await readFile(join(victim, 'precious.txt'), 'utf8')).toBe('not in any shard\n');
    expect((await readdir(work)).sort()).toEqual(['victim']);
    const manifest = JSON.parse((await readAll(dest, `${hostile}.manifest.json`)).toString());
    const verified = await verifyShard(dest, manifest);
    expect(verified.problems).toContainEqual(
      expect.objectContaining({ path: leading, code: 'UNSAFE_ENTRY' }),
    );
  });

  it('refuses a sidecar that splices a shard into another chain', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    // INC2's sidecar now says it follows the base directly; its archive says INC1.
    await buildShard(dest, {
      id: 'backup_20240520_103015_abcdefgh',
      entries: inc2,
      increment: { parent: INC1, base: BASE, length: 2 },
      editSidecar: (sidecar) => Object.assign(sidecar, { parent: BASE, chain_length: 1 }),
    });
    await expect(
      restoreFromLocations({
        id: 'backup_20240520_103015_abcdefgh',
        locations: locations([dest]),
        to: join(work, 'spliced'),
      }),
    ).rejects.toMatchObject({
      code: 'VERIFY_FAILED',
      message: expect.stringMatching(/manifest\.json: says an incremental shard of parent backup_20240518/),
    });
  });

  it('restores a shard file with its chain copied beside it, and refuses an incremental archive alone', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    const folder = join(work, 'copied');
    await mkdir(folder);
    for (const key of dest.objects.keys()) await writeFile(join(folder, key), await readAll(dest, key));
    const opened = await openShardFile(join(folder, `${INC2}.tar.zst`));
    expect(opened.chain?.map((link) => link.id)).toEqual([BASE, INC1, INC2]);
    const to = join(work, 'from-file');
    await restoreShard({ from: opened.from, manifest: opened.manifest, chain: opened.chain, to });
    expect(await snapshot(to)).toEqual(await expected(t2, 'from-file'));

    await rm(join(folder, `${INC2}.manifest.json`));
    const alone = await openShardFile(join(folder, `${INC2}.tar.zst`));
    await expect(
      restoreShard({
        from: alone.from,
        manifest: alone.manifest,
        to: join(work, 'alone'),
        withoutSidecar: true,
      }),
    ).rejects.toMatchObject({
      code: 'RESTORE_REFUSED',
      message: expect.stringContaining('cannot be restored alone'),
    });
  });
});

describe('checking a chain', () => {
  it('finds a missing or misfitting link among the listed shards, and a spliced sidecar when verifying', async () => {
    const dest = memoryDestination();
    await storeChain(dest);
    const misfit = 'backup_20240520_103015_abcdefgh';
    const spliced = 'backup_20240521_103015_abcdefgh';
    // Says it is 3 links from the base, after INC1 which is 1.
    await buildShard(dest, { id: misfit, entries: inc2, increment: { parent: INC1, base: BASE, length: 3 } });
    // Its sidecar says it follows INC2; its archive, INC1.
    await buildShard(dest, {
      id: spliced,
      entries: inc2,
      increment: { parent: INC1, base: BASE, length: 2 },
      editSidecar: (sidecar) => Object.assign(sidecar, { parent: INC2, chain_length: 3 }),
    });
    const { complete } = await listShards(dest);
    const byId = (id: string) => complete.find((manifest) => manifest.id === id)!;
    expect(chainChecker(complete)(byId(INC2))).toEqual([]);
    expect(chainChecker(complete)(byId(spliced))).toEqual([]);
    expect(chainChecker(complete)(byId(misfit))).toEqual([
      {
        path: INC1,
        code: 'CHAIN',
        reason: `link of the chain of ${misfit}: it is 1 links from the base, ${misfit} 3`,
      },
    ]);
    const withoutMiddle = complete.filter((manifest) => manifest.id !== INC1);
    expect(chainChecker(withoutMiddle)(byId(INC2))).toMatchObject([{ path: INC1, code: 'CHAIN' }]);

    expect((await verifyShard(dest, byId(INC2))).ok).toBe(true);
    expect((await verifyShard(dest, byId(spliced))).problems).toEqual([
      {
        path: 'manifest.json',
        code: 'INNER_MANIFEST',
        reason: `says an incremental shard of parent ${INC1} and base ${BASE}, the sidecar manifest an incremental shard of parent ${INC2} and base ${BASE}`,
      },
    ]);
  });
});

describe('ChainTree', () => {
  const inner = (entries: InnerManifest['entries'], deleted?: string[]): InnerManifest => ({
    version: '1.0.0',
    format: 'matric-backup',
    id: 'x',
    created_at: '',
    sources: ['s'],
    entries,
    ...(deleted && { type: 'incremental', parent: 'p', base: 'b', deleted }),
  });
  const file = (path: string, extra: object = {}) => ({
    path,
    type: 'file' as const,
    mode: 0o644,
    mtime: 1,
    size: 1,
    sha256: 'a'.repeat(64),
    ...extra,
  });
  const dir = (path: string) => ({ path, type: 'directory' as const, mode: 0o755, mtime: 1 });

  it('keeps the other names of a replaced or deleted file together, as one file', () => {
    const tree = new ChainTree(
      inner([
        dir('s'),
        file('s/a'),
        file('s/b', { hardlink: 's/a' }),
        file('s/c', { hardlink: 's/a' }),
        file('s/d'),
        file('s/e', { hardlink: 's/d' }),
      ]),
    );
    tree.apply(inner([dir('s'), file('s/a', { size: 2 })], ['s/d']));
    const entries = Object.fromEntries(tree.manifest(inner([])).entries.map((e) => [e.path, e]));
    expect(entries['s/a']).toMatchObject({ size: 2 });
    expect(entries['s/a']!.hardlink).toBeUndefined();
    expect(entries['s/b']!.hardlink).toBeUndefined();
    expect(entries['s/c']!.hardlink).toBe('s/b');
    expect(entries['s/d']).toBeUndefined();
    expect(entries['s/e']!.hardlink).toBeUndefined();
  });

  it('drops what a folder held when it becomes a file, keeps it when the folder stays', () => {
    const tree = new ChainTree(inner([dir('s'), dir('s/f'), file('s/f/x'), dir('s/g'), file('s/g/y')]));
    tree.apply(inner([dir('s'), file('s/f'), dir('s/g')], []));
    expect(tree.manifest(inner([])).entries.map((e) => e.path)).toEqual(['s', 's/f', 's/g', 's/g/y']);
  });
});

function flipByte(dest: MemoryDestination, key: string): void {
  const bytes = dest.objects.get(key)!.bytes;
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
}
