import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConflictStrategy } from '../src/restore/plan.js';
import { restoreShard } from '../src/restore/restore.js';
import { buildShard, type FixtureEntry, MTIME } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';
import { snapshot } from './fixtures/restore/snapshot.js';

const DAY = 24 * 60 * 60 * 1000;
const ID = 'backup_20240517_103015';

const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory' },
  { path: 'notes/a.txt', type: 'file', content: 'incoming a\n' },
  { path: 'notes/b.txt', type: 'file', content: 'incoming b\n' },
  { path: 'notes/new.txt', type: 'file', content: 'new\n', mode: 0o600 },
  { path: 'notes/sub', type: 'directory', mode: 0o750 },
  { path: 'notes/sub/c.txt', type: 'file', content: 'incoming c\n' },
  { path: 'notes/.hidden', type: 'file', content: 'dot file\n' },
];

let work: string;
let target: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'matric-conflict-'));
  target = join(work, 'target');
});
afterEach(() => rm(work, { recursive: true, force: true }));

async function shard(entries = tree) {
  const dest = memoryDestination();
  const { manifest } = await buildShard(dest, { entries });
  return { dest, manifest };
}

async function put(path: string, content: string, mtime: number) {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  await utimes(path, new Date(mtime), new Date(mtime));
}

/** a.txt older than the shard's, b.txt newer, .hidden older, keep.txt only in the target, sub/ already there. */
async function populate() {
  await put(join(target, 'notes/a.txt'), 'old a\n', MTIME - DAY);
  await put(join(target, 'notes/b.txt'), 'newer b\n', MTIME + DAY);
  await put(join(target, 'notes/.hidden'), 'old dot\n', MTIME - DAY);
  await put(join(target, 'notes/keep.txt'), 'mine\n', MTIME - DAY);
  await mkdir(join(target, 'notes/sub'));
}

const read = (path: string) => readFile(join(target, path), 'utf8');
const leftovers = async () => (await readdir(work)).filter((name) => name !== 'target');
const mtimeOf = async (path: string) => Math.round((await lstat(join(target, path))).mtimeMs);

describe('conflict strategies against a populated target', () => {
  it('refuses a non-empty target when no strategy is named, listing the strategies', async () => {
    const { dest, manifest } = await shard();
    await populate();
    const before = await snapshot(target);
    const error = await restoreShard({ from: dest, manifest, to: target }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'RESTORE_REFUSED',
      message: `restore target ${target} is not empty`,
    });
    expect(error.hint).toContain('--conflict skip_existing | overwrite | merge | rename_new');
    expect(await snapshot(target)).toEqual(before);
    expect(await leftovers()).toEqual([]);
  });

  it('skip_existing keeps every existing file and adds the rest', async () => {
    const { dest, manifest } = await shard();
    await populate();
    const result = await restoreShard({ from: dest, manifest, to: target, conflict: 'skip_existing' });
    expect([await read('notes/a.txt'), await read('notes/b.txt'), await read('notes/.hidden')]).toEqual([
      'old a\n',
      'newer b\n',
      'old dot\n',
    ]);
    expect(await read('notes/new.txt')).toBe('new\n');
    expect(await read('notes/sub/c.txt')).toBe('incoming c\n');
    expect(await read('notes/keep.txt')).toBe('mine\n');
    expect(result.summary).toEqual({ create: 2, overwrite: 0, skip: 3, rename: 0 });
    expect(result.changes.find((c) => c.path === 'notes/a.txt')).toEqual({
      path: 'notes/a.txt',
      kind: 'file',
      action: 'skip',
      reason: 'exists',
    });
    expect(result).toMatchObject({ files: 2, bytes: 'new\n'.length + 'incoming c\n'.length });
    expect(await leftovers()).toEqual([]);
  });

  it("overwrite replaces existing files with the shard's, mode and mtime included", async () => {
    const { dest, manifest } = await shard();
    await populate();
    const result = await restoreShard({ from: dest, manifest, to: target, conflict: 'overwrite' });
    expect([await read('notes/a.txt'), await read('notes/b.txt'), await read('notes/.hidden')]).toEqual([
      'incoming a\n',
      'incoming b\n',
      'dot file\n',
    ]);
    expect(await mtimeOf('notes/b.txt')).toBe(MTIME);
    expect(await read('notes/keep.txt')).toBe('mine\n');
    expect(result.summary).toEqual({ create: 2, overwrite: 3, skip: 0, rename: 0 });
    expect(await leftovers()).toEqual([]);
  });

  it('folders that exist keep their own mode and mtime, though files were placed and replaced in them', async () => {
    const { dest, manifest } = await shard();
    await populate();
    const folders = ['', 'notes', 'notes/sub'];
    for (const [at, folder] of folders.entries()) {
      await utimes(join(target, folder), new Date(MTIME - 3 * DAY), new Date(MTIME - (at + 2) * DAY));
    }
    await restoreShard({ from: dest, manifest, to: target, conflict: 'overwrite' });
    expect(await read('notes/sub/c.txt')).toBe('incoming c\n');
    expect(await Promise.all(folders.map(mtimeOf))).toEqual(folders.map((_, at) => MTIME - (at + 2) * DAY));
    expect((await lstat(join(target, 'notes/sub'))).mode & 0o777).not.toBe(0o750);
  });

  it('merge replaces only files the shard has newer', async () => {
    const { dest, manifest } = await shard();
    await populate();
    const result = await restoreShard({ from: dest, manifest, to: target, conflict: 'merge' });
    expect(await read('notes/a.txt')).toBe('incoming a\n');
    expect(await read('notes/b.txt')).toBe('newer b\n');
    expect(await mtimeOf('notes/b.txt')).toBe(MTIME + DAY);
    expect(await read('notes/.hidden')).toBe('dot file\n');
    expect(result.summary).toEqual({ create: 2, overwrite: 2, skip: 1, rename: 0 });
    expect(result.changes.find((c) => c.path === 'notes/b.txt')).toMatchObject({
      action: 'skip',
      reason: "exists, not older than the shard's",
    });
  });

  it("merge skips a file whose mtime equals the shard's (a second merge changes nothing)", async () => {
    const { dest, manifest } = await shard();
    await restoreShard({ from: dest, manifest, to: target });
    const before = await snapshot(target);
    const again = await restoreShard({ from: dest, manifest, to: target, conflict: 'merge' });
    expect(again.summary).toEqual({ create: 0, overwrite: 0, skip: 5, rename: 0 });
    expect(await snapshot(target)).toEqual(before);
  });

  it('rename_new keeps both, the incoming one as name.restored-<id>.ext, never overwriting', async () => {
    const { dest, manifest } = await shard();
    await populate();
    // The first new name is taken already: the next one is used.
    await put(join(target, `notes/a.restored-${ID}.txt`), 'taken\n', MTIME);
    const result = await restoreShard({ from: dest, manifest, to: target, conflict: 'rename_new' });
    expect(await read('notes/a.txt')).toBe('old a\n');
    expect(await read(`notes/a.restored-${ID}.txt`)).toBe('taken\n');
    expect(await read(`notes/a.restored-${ID}-2.txt`)).toBe('incoming a\n');
    expect(await read(`notes/b.restored-${ID}.txt`)).toBe('incoming b\n');
    expect(await read(`notes/.hidden.restored-${ID}`)).toBe('dot file\n');
    expect(await mtimeOf(`notes/b.restored-${ID}.txt`)).toBe(MTIME);
    expect(result.changes.find((c) => c.path === 'notes/a.txt')).toEqual({
      path: 'notes/a.txt',
      kind: 'file',
      action: 'rename',
      as: `notes/a.restored-${ID}-2.txt`,
    });
    expect(result.summary).toEqual({ create: 2, overwrite: 0, skip: 0, rename: 3 });
  });
});

describe('an entry of another kind in the way', () => {
  const clash: FixtureEntry[] = [
    { path: 'notes', type: 'directory' },
    { path: 'notes/was-folder', type: 'file', content: 'a file now\n' },
    { path: 'notes/was-file', type: 'directory', mode: 0o700 },
    { path: 'notes/was-file/inside.txt', type: 'file', content: 'inside\n' },
  ];

  async function clashing() {
    await mkdir(join(target, 'notes/was-folder'), { recursive: true });
    await writeFile(join(target, 'notes/was-folder/old.txt'), 'precious\n');
    await writeFile(join(target, 'notes/was-file'), 'a file\n');
  }

  it.each<ConflictStrategy>(['overwrite', 'merge'])(
    '%s refuses to replace a folder with a file, changing nothing',
    async (conflict) => {
      const { dest, manifest } = await shard(clash);
      await clashing();
      await utimes(join(target, 'notes/was-folder'), new Date(MTIME - DAY), new Date(MTIME - DAY));
      const before = await snapshot(target);
      const error = await restoreShard({ from: dest, manifest, to: target, conflict }).catch((e) => e);
      expect(error).toBeInstanceOf(MatricError);
      expect(error.code).toBe('RESTORE_REFUSED');
      expect(error.message).toContain('notes/was-folder: is a folder in the target and a file in the shard');
      expect(error.message).toContain('nothing was changed');
      expect(await snapshot(target)).toEqual(before);
      expect(await leftovers()).toEqual([]);
    },
  );

  it("overwrite replaces a file with the shard's folder", async () => {
    const { dest, manifest } = await shard(clash.filter((entry) => entry.path !== 'notes/was-folder'));
    await clashing();
    await restoreShard({ from: dest, manifest, to: target, conflict: 'overwrite' });
    expect(await read('notes/was-file/inside.txt')).toBe('inside\n');
    expect((await lstat(join(target, 'notes/was-file'))).mode & 0o777).toBe(0o700);
    expect(await read('notes/was-folder/old.txt')).toBe('precious\n');
  });

  it('rename_new puts both aside under new names; skip_existing leaves both', async () => {
    const { dest, manifest } = await shard(clash);
    await clashing();
    await restoreShard({ from: dest, manifest, to: target, conflict: 'rename_new' });
    expect(await read(`notes/was-folder.restored-${ID}`)).toBe('a file now\n');
    expect(await read(`notes/was-file.restored-${ID}/inside.txt`)).toBe('inside\n');
    expect(await read('notes/was-file')).toBe('a file\n');

    const again = await restoreShard({ from: dest, manifest, to: target, conflict: 'skip_existing' });
    expect(again.summary).toEqual({ create: 0, overwrite: 0, skip: 3, rename: 0 });
  });

  it('never writes through a symlink in the target: overwrite replaces the link itself', async () => {
    const { dest, manifest } = await shard();
    const outside = join(work, 'outside');
    await mkdir(outside);
    await mkdir(join(target, 'notes'), { recursive: true });
    await symlink(outside, join(target, 'notes/sub'));
    await restoreShard({ from: dest, manifest, to: target, conflict: 'overwrite' });
    expect((await lstat(join(target, 'notes/sub'))).isDirectory()).toBe(true);
    expect(await read('notes/sub/c.txt')).toBe('incoming c\n');
    expect(await readdir(outside)).toEqual([]);
  });

  it('skip_existing leaves a symlink where the shard has a folder, and what it points to', async () => {
    const { dest, manifest } = await shard();
    const outside = join(work, 'outside');
    await mkdir(outside);
    await mkdir(join(target, 'notes'), { recursive: true });
    await symlink(outside, join(target, 'notes/sub'));
    const result = await restoreShard({ from: dest, manifest, to: target, conflict: 'skip_existing' });
    expect(await readlink(join(target, 'notes/sub'))).toBe(outside);
    expect(await readdir(outside)).toEqual([]);
    expect(result.changes.filter((c) => c.path.startsWith('notes/sub'))).toEqual([
      { path: 'notes/sub', kind: 'directory', action: 'skip', reason: 'exists as a symbolic link' },
      { path: 'notes/sub/c.txt', kind: 'file', action: 'skip', reason: 'exists as a symbolic link' },
    ]);
  });
});

describe('--dry-run', () => {
  it('reads and checks the shard, reports every action, and writes nothing', async () => {
    const { dest, manifest } = await shard();
    await populate();
    const before = await snapshot(target);
    const result = await restoreShard({
      from: dest,
      manifest,
      to: target,
      conflict: 'merge',
      dryRun: true,
    });
    expect(await snapshot(target)).toEqual(before);
    expect(await leftovers()).toEqual([]);
    expect(result).toMatchObject({ dryRun: true, conflict: 'merge', objectBytes: manifest.object.size });
    expect(result.changes.map((c) => [c.path, c.action])).toEqual([
      ['notes/.hidden', 'overwrite'],
      ['notes/a.txt', 'overwrite'],
      ['notes/b.txt', 'skip'],
      ['notes/new.txt', 'create'],
      ['notes/sub/c.txt', 'create'],
    ]);
  });

  it('into a folder that does not exist: everything is created, nothing is made', async () => {
    const { dest, manifest } = await shard();
    const result = await restoreShard({ from: dest, manifest, to: join(target, 'deeper'), dryRun: true });
    expect(result.summary).toEqual({ create: 7, overwrite: 0, skip: 0, rename: 0 });
    expect(result).toMatchObject({ files: 5, directories: 2 });
    expect(await readdir(work)).toEqual([]);
  });

  it('still refuses a damaged shard', async () => {
    const { dest, manifest } = await shard();
    dest.objects.get(manifest.object.name)!.bytes[40]! ^= 0xff;
    const error = await restoreShard({ from: dest, manifest, to: target, dryRun: true }).catch((e) => e);
    expect(error.code).toBe('VERIFY_FAILED');
  });
});

describe('--max-bytes', () => {
  it('refuses a shard declaring more, before reading it', async () => {
    const { dest, manifest } = await shard();
    let reads = 0;
    const counting = {
      get: (key: string) => {
        reads++;
        return dest.get(key);
      },
    };
    const error = await restoreShard({ from: counting, manifest, to: target, maxBytes: 10 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'RESTORE_REFUSED' });
    expect(error.message).toContain(`holds ${manifest.size_bytes} bytes of files, more than --max-bytes 10`);
    expect(reads).toBe(0);
  });

  it('with --include, counts only the selected files, and refuses once they add up to more', async () => {
    const { dest, manifest } = await shard();
    const small = await restoreShard({
      from: dest,
      manifest,
      to: target,
      include: ['notes/sub'],
      maxBytes: 11,
    });
    expect(small).toMatchObject({ files: 1, bytes: 11 });
    const error = await restoreShard({
      from: dest,
      manifest,
      to: join(work, 'other'),
      include: ['notes/*.txt'],
      maxBytes: 15,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'RESTORE_REFUSED' });
    expect(error.message).toMatch(/more than --max-bytes 15 \(at notes\/b\.txt\)/);
    expect(await readdir(work)).toEqual(['target']);
  });
});

describe('owners', () => {
  const owned: FixtureEntry[] = [
    { path: 'bin', type: 'directory', mode: 0o750 },
    { path: 'bin/tool', type: 'file', content: '#!/bin/sh\n', mode: 0o4755 },
    { path: 'bin/link', type: 'symlink', target: 'tool' },
  ];
  const withOwners = (inner: { entries: Array<{ uid?: number; gid?: number }> }) => {
    for (const entry of inner.entries) Object.assign(entry, { uid: 1234, gid: 5678 });
  };

  it.runIf(process.getuid?.() === 0)(
    'as root, gives entries their recorded owner and keeps setuid by default; preserveOwner false drops both',
    async () => {
      const dest = memoryDestination();
      const { manifest } = await buildShard(dest, { entries: owned, editInner: withOwners });
      await restoreShard({ from: dest, manifest, to: target });
      for (const path of ['bin', 'bin/tool', 'bin/link']) {
        const info = await lstat(join(target, path));
        expect([info.uid, info.gid], path).toEqual([1234, 5678]);
      }
      expect((await lstat(join(target, 'bin/tool'))).mode & 0o7777).toBe(0o4755);
      expect((await lstat(join(target, 'bin'))).mode & 0o7777).toBe(0o750);

      const plain = join(work, 'plain');
      await restoreShard({ from: dest, manifest, to: plain, preserveOwner: false });
      const info = await lstat(join(plain, 'bin/tool'));
      expect([info.uid, info.mode & 0o7777]).toEqual([process.getuid?.(), 0o755]);
    },
  );

  it.runIf(process.getuid?.() !== 0)('refuses --preserve-owner when not root, before reading', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, { entries: owned, editInner: withOwners });
    await expect(
      restoreShard({ from: dest, manifest, to: target, preserveOwner: true }),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message: '--preserve-owner needs root: only root can give files to other users',
    });
  });
});
