import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError, MatricError } from '@matric-backup/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreShard } from '../src/restore/restore.js';
import {
  type BuildOptions,
  buildShard,
  type FixtureEntry,
  MTIME,
  sha256,
  store,
} from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory', mode: 0o750, mtime: MTIME - 1_000 },
  { path: 'notes/a file ü.txt', type: 'file', content: 'alpha\n', mode: 0o640, mtime: MTIME - 2_345 },
  { path: 'notes/run.sh', type: 'file', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { path: 'notes/empty', type: 'file', content: '' },
  { path: 'notes/void', type: 'directory', mode: 0o700, mtime: MTIME - 5_000 },
  { path: 'notes/sub', type: 'directory', mtime: MTIME - 7_777 },
  { path: 'notes/sub/big.bin', type: 'file', content: Buffer.alloc(600_000, 0x5a), mtime: MTIME - 9_999 },
  { path: 'notes/sub/up', type: 'symlink', target: '../a file ü.txt' },
  { path: 'notes/locked', type: 'directory', mode: 0o555 },
  { path: 'notes/locked/inside.txt', type: 'file', content: 'in a read-only folder', mode: 0o444 },
  { path: 'db', type: 'directory' },
  { path: 'db/dump.sql', type: 'file', content: 'select 1;\n', mode: 0o600 },
];

let work: string;
let target: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'matric-restore-'));
  target = join(work, 'restored');
});

afterEach(async () => {
  // Read-only folders come back read-only; make them removable.
  await chmodTree(work, 0o700).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

async function chmodTree(path: string, mode: number): Promise<void> {
  const info = await lstat(path);
  if (!info.isDirectory()) return;
  await chmod(path, mode);
  for (const name of await readdir(path)) await chmodTree(join(path, name), mode);
}

async function shard(options: Partial<BuildOptions> = {}) {
  const dest = memoryDestination();
  const built = await buildShard(dest, { entries: tree, ...options });
  return { dest, ...built };
}

/** Everything in `work` (the target's parent) besides the target: temp folders left behind show up here. */
const leftovers = async () => (await readdir(work)).filter((name) => name !== 'restored');

describe('restoreShard', () => {
  it("gives files the inner manifest's mode and mtime when the tar header says otherwise", async () => {
    // Files get the header's mode and mtime as they are written; the manifest is the authority.
    const { dest, manifest } = await shard({
      editInner: (inner) => {
        const entry = inner.entries.find((candidate) => candidate.path === 'db/dump.sql')!;
        entry.mode = 0o640;
        entry.mtime = MTIME - 60_000;
      },
    });

    await restoreShard({ from: dest, manifest, to: target });

    const info = await lstat(join(target, 'db/dump.sql'));
    expect([info.mode & 0o7777, Math.round(info.mtimeMs)]).toEqual([0o640, MTIME - 60_000]);
  });

  it('brings back bytes, modes, mtimes, symlinks and empty folders', async () => {
    const { dest, manifest, inner } = await shard();
    const progress: Array<{ bytes: number; files: number }> = [];

    const result = await restoreShard({
      from: dest,
      manifest,
      to: target,
      onProgress: (p) => progress.push(p),
    });

    expect(result).toMatchObject({
      id: manifest.id,
      to: target,
      files: 6,
      directories: 5,
      symlinks: 1,
      bytes: manifest.size_bytes,
      objectBytes: manifest.object.size,
    });
    expect(progress.at(-1)).toMatchObject({ bytes: manifest.object.size, total: manifest.object.size });
    for (const entry of inner.entries) {
      const path = join(target, entry.path);
      const info = await lstat(path);
      if (entry.type === 'symlink') {
        expect(info.isSymbolicLink(), entry.path).toBe(true);
        expect(await readlink(path)).toBe(entry.target);
        continue;
      }
      expect(info.mode & 0o7777, entry.path).toBe(entry.mode);
      expect(Math.round(info.mtimeMs), entry.path).toBe(entry.mtime);
      if (entry.type === 'directory') expect(info.isDirectory(), entry.path).toBe(true);
      else expect(sha256(await readFile(path)), entry.path).toBe(entry.sha256);
    }
    expect(await readdir(join(target, 'notes/void'))).toEqual([]);
    expect(await readFile(join(target, 'notes/sub/up'), 'utf8')).toBe('alpha\n');
    expect((await readdir(target)).sort()).toEqual(['db', 'notes']);
    expect(await leftovers()).toEqual([]);
  });

  it.each(['gzip', 'none'] as const)('restores a %s shard', async (compression) => {
    const { dest, manifest } = await shard({ compression });
    await restoreShard({ from: dest, manifest, to: target });
    expect(await readFile(join(target, 'db/dump.sql'), 'utf8')).toBe('select 1;\n');
  });

  it('restores into an existing empty folder', async () => {
    const { dest, manifest } = await shard();
    await mkdir(target);
    await restoreShard({ from: dest, manifest, to: target });
    expect((await readdir(target)).sort()).toEqual(['db', 'notes']);
    expect(await leftovers()).toEqual([]);
  });

  it('creates missing parent folders of the target', async () => {
    const { dest, manifest } = await shard();
    const deep = join(work, 'a/b/restored');
    await restoreShard({ from: dest, manifest, to: deep });
    expect(await readFile(join(deep, 'db/dump.sql'), 'utf8')).toBe('select 1;\n');
    expect(await readdir(join(work, 'a/b'))).toEqual(['restored']);
  });

  it('restores only what --include globs select, with the parents they need', async () => {
    const { dest, manifest } = await shard();
    const result = await restoreShard({
      from: dest,
      manifest,
      to: target,
      include: ['notes/sub', 'db/*.sql'],
    });
    expect(result.files).toBe(2);
    expect((await readdir(target)).sort()).toEqual(['db', 'notes']);
    expect((await readdir(join(target, 'notes'))).sort()).toEqual(['sub']);
    expect((await readdir(join(target, 'notes/sub'))).sort()).toEqual(['big.bin', 'up']);
    // A parent created for a selected entry still gets its own mode and mtime.
    const notes = await lstat(join(target, 'notes'));
    expect([notes.mode & 0o7777, Math.round(notes.mtimeMs)]).toEqual([0o750, MTIME - 1_000]);
  });

  it('refuses an --include that matches nothing', async () => {
    const { dest, manifest } = await shard();
    const error = await restoreShard({ from: dest, manifest, to: target, include: ['nope/**'] }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({
      code: 'RESTORE_REFUSED',
      message: expect.stringContaining('matches nope/**'),
    });
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await leftovers()).toEqual([]);
  });

  describe('target folder', () => {
    it('refuses a folder that is not empty and leaves it alone', async () => {
      const { dest, manifest } = await shard();
      await mkdir(target);
      await writeFile(join(target, 'keep.txt'), 'mine');
      const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);
      expect(error).toBeInstanceOf(MatricError);
      expect(error).toMatchObject({
        code: 'RESTORE_REFUSED',
        message: `restore target ${target} is not empty`,
      });
      expect(await readdir(target)).toEqual(['keep.txt']);
      expect(await leftovers()).toEqual([]);
    });

    it('refuses a file', async () => {
      const { dest, manifest } = await shard();
      await writeFile(target, 'a file');
      const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);
      expect(error).toMatchObject({
        code: 'RESTORE_REFUSED',
        message: expect.stringContaining('is not a folder'),
      });
      expect(await readFile(target, 'utf8')).toBe('a file');
    });
  });

  describe('refusals leave the target unchanged and no temporary folder behind', () => {
    const grow = (bytes: number) => (sidecar: { size_bytes: number }) => {
      sidecar.size_bytes += bytes;
    };
    const hostile: Array<[string, Partial<BuildOptions>, string, RegExp]> = [
      [
        'a path with ..',
        {
          raw: [{ header: { name: 'notes/../../x', type: 'file', size: 1 }, content: Buffer.from('x') }],
          editSidecar: grow(1),
        },
        'RESTORE_REFUSED',
        /"notes\/..\/..\/x": path contains \.\./,
      ],
      [
        'an absolute path',
        {
          raw: [{ header: { name: '/etc/x', type: 'file', size: 1 }, content: Buffer.from('x') }],
          editSidecar: grow(1),
        },
        'RESTORE_REFUSED',
        /"\/etc\/x": absolute path/,
      ],
      [
        'a symlink after entries that put it to use as a folder',
        {
          raw: [
            { header: { name: 'notes/hop/x', type: 'file', size: 1 }, content: Buffer.from('x') },
            { header: { name: 'notes/hop', type: 'symlink', linkname: '../../outside' } },
          ],
          editSidecar: grow(1),
        },
        'RESTORE_REFUSED',
        /notes\/hop: a symbolic link, and a folder of other entries in the archive/,
      ],
      [
        'a hard link leading outside',
        { raw: [{ header: { name: 'notes/hard', type: 'link', linkname: '../etc/passwd' } }] },
        'RESTORE_REFUSED',
        /notes\/hard: hard link to "..\/etc\/passwd" points outside the restore target/,
      ],
      [
        'a hard link to a folder',
        { raw: [{ header: { name: 'notes/hard', type: 'link', linkname: 'notes/sub' } }] },
        'RESTORE_REFUSED',
        /notes\/hard: hard link to "notes\/sub" does not name a file earlier in the archive/,
      ],
      [
        'a hard link to a symlink',
        { raw: [{ header: { name: 'notes/hard', type: 'link', linkname: 'notes/sub/up' } }] },
        'RESTORE_REFUSED',
        /notes\/hard: hard link to "notes\/sub\/up" does not name a file earlier in the archive/,
      ],
      [
        'a device',
        { raw: [{ header: { name: 'notes/null', type: 'character-device', devmajor: 1, devminor: 3 } }] },
        'RESTORE_REFUSED',
        /notes\/null: character-device entries are never restored/,
      ],
      [
        'a FIFO',
        { raw: [{ header: { name: 'notes/pipe', type: 'fifo' } }] },
        'RESTORE_REFUSED',
        /notes\/pipe: fifo entries are never restored/,
      ],
      [
        'more data than declared (a decompression bomb)',
        {
          raw: [
            {
              header: { name: 'notes/bomb', type: 'file', size: 3_000_000 },
              content: Buffer.alloc(3_000_000),
            },
          ],
        },
        'RESTORE_REFUSED',
        /notes\/bomb: the archive holds more than the \d+ bytes of files its manifest declares/,
      ],
      [
        'a file written through a symlink inside the archive',
        {
          raw: [
            { header: { name: 'notes/hop', type: 'symlink', linkname: 'sub' } },
            { header: { name: 'notes/hop/x', type: 'file', size: 1 }, content: Buffer.from('x') },
          ],
          editSidecar: grow(1),
        },
        'RESTORE_REFUSED',
        /notes\/hop\/x: would be written through the symbolic link notes\/hop/,
      ],
      [
        'the same path twice',
        {
          raw: [{ header: { name: 'db/dump.sql', type: 'file', size: 4 }, content: Buffer.from('evil') }],
          editSidecar: grow(4),
        },
        'RESTORE_REFUSED',
        /db\/dump.sql: appears more than once in the archive/,
      ],
      [
        'a wrong object checksum',
        {
          editSidecar: (sidecar) => {
            sidecar.checksum = `sha256:${'0'.repeat(64)}`;
          },
        },
        'VERIFY_FAILED',
        /stored object checksum sha256:[0-9a-f]{64} does not match the sidecar's sha256:0{64}/,
      ],
      [
        'a file that differs from the inner manifest',
        {
          editInner: (inner) => {
            inner.entries.find((entry) => entry.path === 'db/dump.sql')!.sha256 = sha256('select 2;\n');
          },
        },
        'VERIFY_FAILED',
        /db\/dump.sql: content differs from the manifest/,
      ],
      [
        'a file missing from the archive',
        { omit: ['notes/run.sh'] },
        'VERIFY_FAILED',
        /notes\/run.sh: in the manifest but missing from the archive/,
      ],
    ];

    for (const existing of [false, true]) {
      describe(existing ? 'into an empty folder' : 'into a new folder', () => {
        it.each(hostile)('%s', async (_name, options, code, message) => {
          const { dest, manifest } = await shard(options);
          if (existing) await mkdir(target);

          const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);

          expect(error).toBeInstanceOf(MatricError);
          expect(error.code).toBe(code);
          expect(error.message).toMatch(message);
          expect(error.message).toContain(`${target} left unchanged`);
          if (existing) expect(await readdir(target)).toEqual([]);
          else await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
          expect(await leftovers()).toEqual([]);
          await expect(lstat(join(work, 'outside'))).rejects.toMatchObject({ code: 'ENOENT' });
        });
      });
    }

    it('a truncated archive (whose sidecar matches it)', async () => {
      const { dest, manifest, archive } = await shard();
      const truncated = archive.subarray(0, archive.length - 40);
      await store(dest, manifest.object.name, truncated);
      manifest.object.size = truncated.length;
      manifest.checksum = `sha256:${sha256(truncated)}`;

      const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);

      expect(error).toMatchObject({
        code: 'VERIFY_FAILED',
        message: expect.stringContaining('archive unreadable'),
      });
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await leftovers()).toEqual([]);
    });

    it('a missing parent folder it created is removed again', async () => {
      const { dest, manifest } = await shard({ omit: ['db/dump.sql'] });
      const error = await restoreShard({ from: dest, manifest, to: join(work, 'new/deeper/restored') }).catch(
        (e) => e,
      );
      expect(error).toMatchObject({ code: 'VERIFY_FAILED' });
      expect(await readdir(work)).toEqual([]);
    });

    it('a destination failing half-way through: its error, not a verdict on the shard', async () => {
      const { dest, manifest, archive } = await shard();
      async function* halfThenFail() {
        yield archive.subarray(0, archive.length >> 1);
        throw new DestinationError('UNREACHABLE', 'connection reset', { destination: 'offsite' });
      }
      const failing: Destination = { ...dest, get: async () => Readable.from(halfThenFail()) };

      const error = await restoreShard({ from: failing, manifest, to: target }).catch((e) => e);

      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({ code: 'UNREACHABLE', destination: 'offsite' });
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await leftovers()).toEqual([]);
    });

    it('an archive object gone from the destination', async () => {
      const { dest, manifest } = await shard();
      await dest.delete(manifest.object.name);
      const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);
      expect(error).toMatchObject({ name: 'DestinationError', code: 'NOT_FOUND' });
      expect(await readdir(work)).toEqual([]);
    });

    it('a target that cannot be created: a local error, named as such', async () => {
      const { dest, manifest } = await shard();
      await writeFile(join(work, 'file'), 'x');
      const inside = join(work, 'file/restored');
      const error = await restoreShard({ from: dest, manifest, to: inside }).catch((e) => e);
      expect(error).toBeInstanceOf(MatricError);
      expect(error.code).toBe('UNKNOWN');
      expect(error.message).toMatch(new RegExp(`^cannot restore into ${inside}: ENOTDIR`));
      expect(await readdir(work)).toEqual(['file']);
    });

    it('an age-encrypted shard without an identity, before reading anything', async () => {
      const { dest, manifest } = await shard({
        editSidecar: (sidecar) => {
          sidecar.encryption = { method: 'age', recipient_count: 1 };
        },
      });
      const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);
      expect(error).toMatchObject({
        code: 'USAGE',
        message: 'this shard is age-encrypted and no identity was given',
        hint: 'pass --identity FILE or set backup.encryption.identity_file',
      });
      expect(await readdir(work)).toEqual([]);
    });
  });
});
