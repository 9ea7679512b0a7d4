import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileWriter } from '../src/restore/file-writer.js';
import { applyFolderMetadata } from '../src/restore/metadata.js';
import { moveIntoTarget } from '../src/restore/move.js';
import { restoreShard } from '../src/restore/restore.js';
import { RefusedEntry } from '../src/shard/entry-guard.js';
import { verifyShard } from '../src/shard/verify.js';
import { buildShard, type FixtureEntry } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

// Symbolic links are data: restored as links whatever they point to. What
// restore never does is write through one.
const links: FixtureEntry[] = [
  { path: 'etc', type: 'directory' },
  { path: 'etc/hostname', type: 'file', content: 'box\n' },
  { path: 'etc/absolute', type: 'symlink', target: '/usr/share/zoneinfo/UTC' },
  { path: 'etc/outside', type: 'symlink', target: '../../outside' },
  { path: 'etc/dangling', type: 'symlink', target: 'no/such/file' },
  { path: 'etc/relative', type: 'symlink', target: 'hostname' },
  // A chain of relative links that leads out only when followed: each one alone looks harmless.
  { path: 'etc/a', type: 'directory' },
  { path: 'etc/a/y', type: 'symlink', target: '..' },
  { path: 'etc/a/z', type: 'symlink', target: 'y/..' },
  { path: 'etc/a/w', type: 'symlink', target: 'z/..' },
  { path: 'etc/a/esc', type: 'symlink', target: 'w/outside' },
];
const symlinks = links.filter((entry) => entry.type === 'symlink') as Array<{ path: string; target: string }>;

let work: string;
let target: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'matric-links-'));
  target = join(work, 'restored');
  await mkdir(join(work, 'outside'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

async function shard(entries: FixtureEntry[] = links) {
  const dest = memoryDestination();
  const built = await buildShard(dest, { entries });
  return { dest, ...built };
}

describe('symbolic links', () => {
  it('are restored as links, whatever they point to, and verify finds nothing wrong', async () => {
    const { dest, manifest } = await shard();
    expect(await verifyShard(dest, manifest)).toMatchObject({ ok: true, problems: [] });

    const result = await restoreShard({ from: dest, manifest, to: target });

    expect(result.symlinks).toBe(symlinks.length);
    for (const link of symlinks) expect(await readlink(join(target, link.path)), link.path).toBe(link.target);
    expect(await readdir(join(work, 'outside'))).toEqual([]);
  });

  it('an unrelated --include is not held up by links anywhere in the shard', async () => {
    const { dest, manifest } = await shard();
    await restoreShard({ from: dest, manifest, to: target, include: ['etc/hostname'] });
    expect(await readdir(join(target, 'etc'))).toEqual(['hostname']);
  });

  describe('refuseEscapingLinks', () => {
    const escaping = [
      /etc\/absolute: symbolic link to "\/usr\/share\/zoneinfo\/UTC" points outside the restore target$/,
      /etc\/outside: symbolic link to "\.\.\/\.\.\/outside" points outside the restore target$/,
      /etc\/a\/esc: symbolic link to "w\/outside" points outside the restore target \(through the link etc\/a\/w\)$/,
      /etc\/a\/w: symbolic link to "z\/\.\." points outside the restore target \(through the link etc\/a\/z\)$/,
    ];

    it('refuses links leading outside, followed through the chain, and leaves the target alone', async () => {
      const { dest, manifest } = await shard();
      const error = await restoreShard({ from: dest, manifest, to: target, refuseEscapingLinks: true }).catch(
        (e) => e,
      );
      expect(error).toMatchObject({ code: 'RESTORE_REFUSED' });
      expect(error.message).toMatch(/refused by --refuse-escaping-links; .* left unchanged/);
      const lines = error.message.split('\n').map((line: string) => line.trim());
      for (const line of escaping)
        expect(
          lines.some((shown: string) => line.test(shown)),
          String(line),
        ).toBe(true);
      // y -> .. and z -> y/.. stay inside (etc/ and the root); relative and dangling ones too.
      expect(error.message).not.toMatch(/etc\/a\/y:|etc\/a\/z:|etc\/relative|etc\/dangling/);
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readdir(work)).toEqual(['outside']);
    });

    it('lets links inside the target through, and judges only the selected ones', async () => {
      const { dest, manifest } = await shard();
      await restoreShard({
        from: dest,
        manifest,
        to: target,
        refuseEscapingLinks: true,
        include: ['etc/hostname', 'etc/relative', 'etc/dangling', 'etc/a/y'],
      });
      expect(await readlink(join(target, 'etc/relative'))).toBe('hostname');
      expect(await readlink(join(target, 'etc/a/y'))).toBe('..');
    });

    it('verify counts them as problems only when asked', async () => {
      const { dest, manifest } = await shard();
      const result = await verifyShard(dest, manifest, { refuseEscapingLinks: true });
      expect(result.ok).toBe(false);
      expect(result.problems).toHaveLength(escaping.length);
    });
  });
});

describe('nothing is written through a link', () => {
  it('the writer checks every folder above a link again, uncached, before creating it', async () => {
    await mkdir(target);
    // One thread: 512 operations are one full batch, sent to it at once.
    const writer = new FileWriter(target, () => undefined, undefined, undefined, { threads: 1 });
    writer.folder('a');
    for (let index = 0; index < 511; index++) writer.folder(`a/d${index}`);
    while (!(await lstat(join(target, 'a/d510')).catch(() => undefined))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Swapped behind the writer's back after it made `a`.
    await rm(join(target, 'a'), { recursive: true });
    await symlink(join(work, 'outside'), join(target, 'a'));
    writer.symlink('a/link', '/etc/passwd');
    await expect(writer.finish()).rejects.toThrow(
      new RefusedEntry('a/link: its folder a is not a folder on disk'),
    );
    expect(await readdir(join(work, 'outside'))).toEqual([]);
  });

  it('the moves into the target stop at a folder turned into a link since the plan, and undo', async () => {
    const temp = join(work, 'temp');
    await mkdir(join(temp, 'notes'), { recursive: true });
    await writeFile(join(temp, 'notes/a.txt'), 'a');
    await writeFile(join(temp, 'notes/b.txt'), 'b');
    await mkdir(join(target, 'notes'), { recursive: true });
    await writeFile(join(target, 'top.txt'), 'mine');
    await writeFile(join(temp, 'top.txt'), 'theirs');
    // As planned, both go into the real folder notes/; by the move, notes/ is a link to outside.
    const plan = {
      changes: [],
      newDirectories: [],
      summary: { create: 2, overwrite: 1, skip: 0, rename: 0 },
      bytes: 0,
      moves: [
        { from: 'top.txt', to: 'top.txt', replace: true },
        { from: 'notes/a.txt', to: 'notes/a.txt', replace: false },
        { from: 'notes/b.txt', to: 'notes/b.txt', replace: false },
      ],
    };
    await rm(join(target, 'notes'), { recursive: true });
    await symlink(join(work, 'outside'), join(target, 'notes'));

    let error: unknown;
    try {
      moveIntoTarget([{ plan, temp, target }]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      code: 'RESTORE_REFUSED',
      message: expect.stringMatching(
        /notes is a symbolic link \(changed during the restore\?\); nothing is written through it; every move was undone/,
      ),
    });
    expect(await readdir(join(work, 'outside'))).toEqual([]);
    expect(await readdir(target)).toEqual(['notes', 'top.txt']);
    expect(await readFile(join(target, 'top.txt'), 'utf8')).toBe('mine');
  });

  it('folder modes and times are not applied through a folder turned into a link after the move', async () => {
    const outside = join(work, 'outside');
    await chmod(outside, 0o750);
    await mkdir(join(target, 'notes'), { recursive: true });
    await symlink(outside, join(target, 'notes/sub'));
    const entry = (path: string) => ({ path, type: 'directory' as const, mode: 0o777, mtime: 0 });
    applyFolderMetadata(
      target,
      [
        { path: 'notes/sub', entry: entry('notes/sub') },
        { path: 'notes', entry: entry('notes') },
      ],
      {},
    );
    expect((await stat(outside)).mode & 0o777).toBe(0o750);
    expect((await stat(join(target, 'notes'))).mode & 0o777).toBe(0o777);
  });
});
