import { createHash } from 'node:crypto';
import { link, lstat, open, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { restoreShard } from '../src/restore/restore.js';
import { runBackup } from '../src/run/run.js';
import { findShard, listShards } from '../src/shard/catalog.js';
import { verifyShard } from '../src/shard/verify.js';
import { setupRun, type TestSetup } from './fixtures/run/config.js';
import { makeTree } from './fixtures/run/tree.js';

let setup: TestSetup | undefined;
afterEach(() => setup?.cleanup());

interface Snapshot {
  /** Kind, permission bits, size and content hash, or link target. */
  what: string;
  mtimeMs: number;
}

/** Every entry under `root` with what a restore must reproduce. */
async function snapshot(root: string): Promise<Map<string, Snapshot>> {
  const entries = new Map<string, Snapshot>();
  const walk = async (relative: string) => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const full = join(root, path);
      const info = await lstat(full);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) {
        // Linux ignores a link's own mode, and its mtime is not what anyone compares.
        entries.set(path, { what: `link -> ${await readlink(full)}`, mtimeMs: 0 });
      } else if (info.isDirectory()) {
        entries.set(path, { what: `dir ${mode}`, mtimeMs: info.mtimeMs });
        await walk(path);
      } else {
        const sha = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
        entries.set(path, { what: `file ${mode} ${info.size} ${sha}`, mtimeMs: info.mtimeMs });
      }
    }
  };
  await walk('');
  return entries;
}

describe('through the run pipeline', () => {
  it('run -> list -> verify -> restore gives back the same tree', async () => {
    setup = await setupRun({
      sources: (dir) => [{ name: 'notes', type: 'directory', path: join(dir, 'data') }],
    });
    await makeTree(join(setup.dir, 'data'));
    const summary = await runBackup(setup.config, { now: new Date('2026-01-17T02:00:00.000Z') });
    expect(summary.status).toBe('success');
    const opened = memoryDestination(setup.store('primary'));

    const { complete, incomplete } = await listShards(opened);
    expect(complete.map((manifest) => manifest.id)).toEqual([summary.id]);
    expect(incomplete).toEqual([]);
    const manifest = await findShard(opened, 'latest');
    expect(manifest).toEqual(summary.manifest);

    const verified = await verifyShard(opened, manifest);
    expect(verified).toMatchObject({ ok: true, problems: [], filesChecked: manifest.file_count });

    const to = join(setup.dir, 'restored');
    const restored = await restoreShard({ from: opened, manifest, to });
    expect(restored).toMatchObject({ files: manifest.file_count, bytes: manifest.size_bytes });

    const original = await snapshot(join(setup.dir, 'data'));
    const back = await snapshot(join(to, 'notes'));
    expect([...back.keys()]).toEqual([...original.keys()]);
    for (const [path, want] of original) {
      const got = back.get(path)!;
      expect(got.what, path).toBe(want.what);
      // The manifest keeps milliseconds; the file system had nanoseconds.
      expect(Math.abs(got.mtimeMs - want.mtimeMs), path).toBeLessThan(1);
    }
  });

  it('keeps hard links as links and brings a sparse file back sparse', async () => {
    setup = await setupRun({
      sources: (dir) => [{ name: 'notes', type: 'directory', path: join(dir, 'data') }],
    });
    const data = join(setup.dir, 'data');
    await makeTree(data);
    await link(join(data, 'a.txt'), join(data, 'nested/a-again.txt'));
    await link(join(data, 'a.txt'), join(data, 'z.txt'));
    // 64 MiB with 5 bytes of data in the middle: a few KiB allocated.
    const sparse = await open(join(data, 'sparse.img'), 'wx');
    await sparse.write('hello', 32 << 20);
    await sparse.truncate(64 << 20);
    await sparse.close();

    const summary = await runBackup(setup.config, { now: new Date('2026-01-17T02:00:00.000Z') });
    expect(summary.status).toBe('success');
    expect(summary.manifest!.counts.hardlinks).toBe(2);
    const opened = memoryDestination(setup.store('primary'));
    const manifest = await findShard(opened, 'latest');
    expect(await verifyShard(opened, manifest)).toMatchObject({ ok: true, problems: [] });

    const to = join(setup.dir, 'restored');
    const restored = await restoreShard({ from: opened, manifest, to });
    expect(restored.bytes).toBe(manifest.size_bytes);
    const [first, again, last] = await Promise.all(
      ['a.txt', 'nested/a-again.txt', 'z.txt'].map((path) => lstat(join(to, 'notes', path))),
    );
    expect([first!.nlink, again!.ino, last!.ino]).toEqual([3, first!.ino, first!.ino]);
    const image = await lstat(join(to, 'notes/sparse.img'));
    expect(image.size).toBe(64 << 20);
    expect(image.blocks * 512).toBeLessThan(1 << 20);
    const back = await readFile(join(to, 'notes/sparse.img'));
    expect(back.subarray(32 << 20, (32 << 20) + 5).toString()).toBe('hello');
    expect(back.subarray(0, 32 << 20).equals(Buffer.alloc(32 << 20))).toBe(true);
  }, 30_000);
});
