import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError } from '@matric-backup/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreFromLocations, type ShardLocation } from '../src/restore/fallback.js';
import { openShardFile } from '../src/restore/file-source.js';
import { moveIntoTarget } from '../src/restore/move.js';
import { restoreShard } from '../src/restore/restore.js';
import { type BuildOptions, buildShard, type FixtureEntry } from './fixtures/read/build-shard.js';
import { type MemoryDestination, memoryDestination } from './fixtures/read/memory-destination.js';
import { snapshot } from './fixtures/restore/snapshot.js';

const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory' },
  { path: 'notes/a.txt', type: 'file', content: 'alpha\n' },
  { path: 'notes/big.bin', type: 'file', content: Buffer.alloc(200_000, 3) },
];

let work: string;
let target: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'matric-fallback-'));
  target = join(work, 'target');
});
afterEach(() => rm(work, { recursive: true, force: true }));

/** The same shard on each destination; `damage` edits one destination's copy. */
async function copies(count: number, options: Partial<BuildOptions> = {}): Promise<MemoryDestination[]> {
  const dests: MemoryDestination[] = [];
  for (let i = 0; i < count; i++) {
    const dest = memoryDestination();
    await buildShard(dest, { entries: tree, ...options });
    dests.push(dest);
  }
  return dests;
}

function locations(dests: Destination[]): ShardLocation[] {
  return dests.map((dest, index) => ({ name: `d${index + 1}`, open: async () => dest }));
}

function flipByte(dest: MemoryDestination, key: string, at = 0.5): void {
  const bytes = dest.objects.get(key)!.bytes;
  bytes[Math.floor(bytes.length * at)]! ^= 0x01;
}

describe('restoreFromLocations', () => {
  it('falls back from a corrupted copy to a good one, naming the bad one, into a populated target', async () => {
    const [first, second] = await copies(2);
    const key = [...first!.objects.keys()].find((k) => k.endsWith('.tar.zst'))!;
    flipByte(first!, key);
    await mkdir(target);
    await writeFile(join(target, 'mine.txt'), 'mine\n');
    const fallbacks: Array<[string, string]> = [];

    const result = await restoreFromLocations({
      id: 'latest',
      locations: locations([first!, second!]),
      to: target,
      conflict: 'skip_existing',
      onFallback: (name, error) => fallbacks.push([name, (error as { code: string }).code]),
    });

    expect(result.destination).toBe('d2');
    expect(fallbacks).toEqual([['d1', 'VERIFY_FAILED']]);
    expect(await readFile(join(target, 'notes/a.txt'), 'utf8')).toBe('alpha\n');
    expect(await readFile(join(target, 'mine.txt'), 'utf8')).toBe('mine\n');
  });

  it('skips a location without the shard, and one that cannot be reached', async () => {
    const [good] = await copies(1);
    const unreachable: ShardLocation = {
      name: 'down',
      open: async () => {
        throw new DestinationError('UNREACHABLE', 'connection refused', { destination: 'down' });
      },
    };
    const fallbacks: string[] = [];
    const result = await restoreFromLocations({
      id: 'backup_20240517_103015',
      locations: [
        unreachable,
        { name: 'empty', open: async () => memoryDestination() },
        ...locations([good!]),
      ],
      to: target,
      onFallback: (name) => fallbacks.push(name),
    });
    expect(result.destination).toBe('d1');
    expect(fallbacks).toEqual(['down']);
  });

  it('does not try another copy for a problem of the target: the first error stands', async () => {
    const dests = await copies(2);
    await mkdir(target);
    await writeFile(join(target, 'mine.txt'), 'mine\n');
    const opened: string[] = [];
    const error = await restoreFromLocations({
      id: 'latest',
      locations: locations(dests).map((location) => ({
        ...location,
        open: () => {
          opened.push(location.name);
          return location.open();
        },
      })),
      to: target,
    }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'RESTORE_REFUSED',
      message: `restore target ${target} is not empty`,
    });
    expect(opened).toEqual(['d1']);
  });

  it("tries the next copy after an unsafe archive, and reports the last copy's error when all fail", async () => {
    const dests = await copies(2, {
      raw: [{ header: { name: 'notes/null', type: 'character-device', devmajor: 1, devminor: 3 } }],
    });
    const fallbacks: string[] = [];
    const error = await restoreFromLocations({
      id: 'latest',
      locations: locations(dests),
      to: target,
      onFallback: (name) => fallbacks.push(name),
    }).catch((e) => e);
    expect(fallbacks).toEqual(['d1']);
    expect(error).toMatchObject({ code: 'RESTORE_REFUSED' });
    expect(error.message).toContain('character-device entries are never restored');
    expect(await readdir(work)).toEqual([]);
  });

  it('says where it looked when no location has the shard', async () => {
    const error = await restoreFromLocations({
      id: 'backup_20240517_103015',
      locations: locations([memoryDestination(), memoryDestination()]),
      to: target,
    }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'SHARD_NOT_FOUND',
      message: 'shard "backup_20240517_103015" is on none of: d1, d2',
    });
  });
});

describe('restore FILE', () => {
  async function exported(options: Partial<BuildOptions> = {}, sidecar = true) {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, { entries: tree, sidecar, ...options });
    const folder = join(work, 'copied');
    await mkdir(folder);
    for (const [key, { bytes }] of dest.objects) await writeFile(join(folder, key), bytes);
    return { file: join(folder, manifest.object.name), manifest };
  }

  it('uses the sidecar beside the file: a damaged file fails its checksum', async () => {
    const { file, manifest } = await exported();
    const opened = await openShardFile(file);
    expect(opened.manifest).toEqual(manifest);
    expect(opened.sidecar).toBe(join(work, 'copied', `${manifest.id}.manifest.json`));
    const restored = await restoreShard({ ...opened, to: target });
    expect(restored.warnings).toEqual([]);
    expect(await readFile(join(target, 'notes/a.txt'), 'utf8')).toBe('alpha\n');

    const bytes = await readFile(file);
    bytes[bytes.length >> 1]! ^= 0x01;
    await writeFile(file, bytes);
    const error = await restoreShard({ ...(await openShardFile(file)), to: join(work, 'again') }).catch(
      (e) => e,
    );
    expect(error.code).toBe('VERIFY_FAILED');
  });

  it('without a sidecar, still checks every file against the inner manifest, and says what it could not check', async () => {
    const { file } = await exported({}, false);
    const renamed = join(work, 'copied', 'my-backup.tar.zst');
    await writeFile(renamed, await readFile(file));
    const opened = await openShardFile(renamed);
    expect(opened.sidecar).toBeUndefined();
    expect(opened.manifest).toMatchObject({ compression: 'zstd', encryption: null });
    const restored = await restoreShard({ ...opened, withoutSidecar: true, to: target });
    expect(restored.id).toBe('backup_20240517_103015');
    expect(restored.warnings[0]).toMatchObject({
      code: 'NOT_CHECKED',
      message: expect.stringMatching(
        /^no sidecar manifest: the archive's size and checksum were not checked/,
      ),
    });
    expect(await readFile(join(target, 'notes/big.bin'))).toEqual(Buffer.alloc(200_000, 3));
  });

  it('without a sidecar, refuses a file whose content differs from the inner manifest', async () => {
    const { file } = await exported(
      {
        editInner: (inner) => {
          inner.entries.find((entry) => entry.path === 'notes/a.txt')!.sha256 = '0'.repeat(64);
        },
      },
      false,
    );
    const error = await restoreShard({
      ...(await openShardFile(file)),
      withoutSidecar: true,
      to: target,
    }).catch((e) => e);
    expect(error.code).toBe('VERIFY_FAILED');
    expect(error.message).toContain('notes/a.txt: content differs from the manifest');
    expect(await readdir(work)).toEqual(['copied']);
  });

  it('refuses a file that is not a shard archive', async () => {
    const file = join(work, 'notes.txt');
    await writeFile(file, 'just text');
    await expect(openShardFile(file)).rejects.toMatchObject({
      code: 'USAGE',
      message: `${file} is not a shard archive`,
    });
  });
});

describe('moving into the target', () => {
  it('undoes every rename done when a later one fails', async () => {
    const temp = join(work, 'temp');
    await mkdir(join(temp, 'notes'), { recursive: true });
    await writeFile(join(temp, 'notes/a.txt'), 'incoming\n');
    await mkdir(join(target, 'notes'), { recursive: true });
    await writeFile(join(target, 'notes/a.txt'), 'existing\n');
    await writeFile(join(target, 'notes/b.txt'), 'existing b\n');
    const before = await snapshot(target);

    const move = () =>
      moveIntoTarget([
        {
          plan: {
            changes: [],
            newDirectories: [],
            summary: { create: 0, overwrite: 0, skip: 0, rename: 0 },
            bytes: 0,
            moves: [
              { from: 'notes/a.txt', to: 'notes/a.txt', replace: true },
              // Gone from the temporary folder: this rename fails after the first one was done.
              { from: 'notes/b.txt', to: 'notes/b.txt', replace: true },
            ],
          },
          temp,
          target,
        },
      ]);

    expect(move).toThrow(/every move was undone, .* left unchanged/);
    expect(await snapshot(target)).toEqual(before);
    expect(await readFile(join(temp, 'notes/a.txt'), 'utf8')).toBe('incoming\n');
  });
});
