import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Destination } from '@matric-backup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildShard, type FixtureEntry } from '../packages/core/test/fixtures/read/build-shard.js';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';

// Symbolic links are data: a shard stores them as links and restore brings them
// back as links, whatever they point to (absolute, outside the source, nowhere),
// as a real /etc needs. Restore never writes through one, and
// --refuse-escaping-links keeps links leading out of the target away for
// archives from untrusted places.

/** Every symlink under `root` and its target, by relative path. */
async function linksUnder(root: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  for (const [path, entry] of await snapshotTree(root))
    if (entry.type === 'symlink') links.set(path, entry.target!);
  return links;
}

/** GNU tar's listing of a stored shard: it must read every shard we write. */
function gnuTarList(archive: string): string {
  return execFileSync('tar', ['--zstd', '-tvf', archive], { encoding: 'utf8' });
}

describe('symbolic links round-trip as links', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('mb-e2e-links-');
  });
  afterAll(() => work.cleanup());

  async function backUp(name: string, sources: Array<{ name: string; path: string }>) {
    const dir = join(work.path, name);
    const backups = join(dir, 'backups');
    await mkdir(dir, { recursive: true });
    const config = await writeConfig(dir, {
      sources: sources.map((source) => ({ ...source, type: 'directory' })),
      destinations: [{ name: 'disk', type: 'local', path: backups }],
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { archive } = JSON.parse(run.stdout) as { archive: { key: string } };
    return { dir, config, archive: join(backups, archive.key) };
  }

  it('absolute, outside, dangling and relative links: verify ok, restored identical, GNU tar reads the shard', async () => {
    const source = join(work.path, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'hostname'), 'box\n');
    const links: Array<[string, string]> = [
      ['absolute', '/etc/hostname'],
      ['outside', '../../../somewhere/else'],
      ['dangling', 'no/such/file'],
      ['relative', 'hostname'],
      ['sub/up', '../hostname'],
      ['sub/folder', '..'],
    ];
    for (const [path, target] of links) await symlink(target, join(source, path));
    const { dir, config, archive } = await backUp('mixed', [{ name: 'files', path: source }]);

    const verify = await runCli(['verify', '-c', config]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok /m);

    const target = join(dir, 'restored');
    const restore = await runCli(['restore', 'latest', '--to', target, '-c', config]);
    expect(restore.code, restore.stderr).toBe(0);
    for (const [path, want] of links) expect(await readlink(join(target, 'files', path)), path).toBe(want);
    expect(await diffTrees(source, join(target, 'files'))).toEqual([]);

    const listing = gnuTarList(archive);
    for (const [path, want] of links) expect(listing).toContain(`files/${path} -> ${want}`);
  });

  describe('a real /etc/ssl, read in place', () => {
    let shard: Awaited<ReturnType<typeof backUp>>;
    beforeAll(async () => {
      shard = await backUp('ssl', [{ name: 'ssl', path: '/etc/ssl' }]);
    });

    it('verifies, restores with every link intact, and GNU tar reads it', async () => {
      const links = await linksUnder('/etc/ssl');
      // Debian's certificate links: absolute ones into /usr/share, hash links beside them.
      expect([...links.values()].some((target) => target.startsWith('/usr/share/'))).toBe(true);

      const verify = await runCli(['verify', '-c', shard.config]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);

      const target = join(shard.dir, 'restored');
      const restore = await runCli(['restore', 'latest', '--to', target, '-c', shard.config]);
      expect(restore.code, restore.stderr).toBe(0);
      expect(await linksUnder(join(target, 'ssl'))).toEqual(links);
      expect(await diffTrees('/etc/ssl', join(target, 'ssl'))).toEqual([]);

      // An unrelated file alone, as before any link was allowed.
      const one = join(shard.dir, 'one');
      const include = await runCli([
        'restore',
        'latest',
        '--to',
        one,
        '--include',
        'ssl/openssl.cnf',
        '-c',
        shard.config,
      ]);
      expect(include.code, include.stderr).toBe(0);
      expect(await readFile(join(one, 'ssl/openssl.cnf'))).toEqual(await readFile('/etc/ssl/openssl.cnf'));

      expect(gnuTarList(shard.archive)).toMatch(/ssl\/certs\/\S+\.pem -> \/usr\/share\/ca-certificates\//);
    });

    it('--refuse-escaping-links refuses it in restore and verify, and leaves the target alone', async () => {
      const target = join(shard.dir, 'strict');
      await mkdir(target);
      await writeFile(join(target, 'mine.txt'), 'keep\n');
      const before = await snapshotTree(target);

      const restore = await runCli([
        'restore',
        'latest',
        '--to',
        target,
        '--conflict',
        'overwrite',
        '--refuse-escaping-links',
        '-c',
        shard.config,
      ]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(
        /^error: shard \S+ holds symbolic links leading outside the target, refused by --refuse-escaping-links/m,
      );
      expect(restore.stderr).toMatch(
        /ssl\/certs\/\S+: symbolic link to "\S+" points outside the restore target/,
      );
      expect(restore.stderr).toMatch(/^hint: restore without --refuse-escaping-links/m);
      expect(await snapshotTree(target)).toEqual(before);
      expect((await readdir(shard.dir)).filter((name) => name.includes('.restore-'))).toEqual([]);

      const verify = await runCli(['verify', '--refuse-escaping-links', '--json', '-c', shard.config]);
      expect(verify.code).toBe(1);
      const [result] = JSON.parse(verify.stdout).results;
      expect(result.problems).toContainEqual({
        path: 'ssl/certs/ACCVRAIZ1.pem',
        code: 'ESCAPING_LINK',
        reason: expect.stringMatching(
          /^symbolic link to "\/usr\/share\/ca-certificates\/\S+" points outside the restore target$/,
        ),
      });
      // At least every absolute link, and nothing but links.
      const absolute = [...(await linksUnder('/etc/ssl')).values()].filter((to) => to.startsWith('/'));
      expect(result.problem_count).toBeGreaterThanOrEqual(absolute.length);
      expect(result.problems.every((problem: { code: string }) => problem.code === 'ESCAPING_LINK')).toBe(
        true,
      );
    });
  });

  it('a chain of relative links built to lead out: restored as links, nothing written outside the target', async () => {
    const dir = join(work.path, 'chain');
    const backups = join(dir, 'backups');
    await mkdir(backups, { recursive: true });
    // A sentinel folder where `esc` leads once followed from the restored target.
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'sentinel'), 'untouched\n');
    const chain: FixtureEntry[] = [
      { path: 'notes', type: 'directory' },
      { path: 'notes/a.txt', type: 'file', content: 'a\n' },
      { path: 'notes/y', type: 'symlink', target: '..' },
      { path: 'notes/z', type: 'symlink', target: 'y/..' },
      { path: 'notes/w', type: 'symlink', target: 'z/..' },
      { path: 'notes/esc', type: 'symlink', target: 'w/outside' },
    ];
    const built = await buildShard(folderStore(backups), { entries: chain });
    const config = await writeConfig(dir, {
      sources: [{ name: 'notes', type: 'directory', path: join(dir, 'unused') }],
      destinations: [{ name: 'disk', type: 'local', path: backups }],
    });
    const outsideBefore = await snapshotTree(outside);
    const target = join(dir, 'target');

    const restore = await runCli(['restore', 'latest', '--to', target, '-c', config]);
    expect(restore.code, restore.stderr).toBe(0);
    for (const entry of chain) {
      if (entry.type === 'symlink') expect(await readlink(join(target, entry.path))).toBe(entry.target);
    }
    expect(await snapshotTree(outside)).toEqual(outsideBefore);
    expect((await readdir(dir)).sort()).toEqual(['backup.yaml', 'backups', 'outside', 'state', 'target']);
    expect(gnuTarList(join(backups, `${built.manifest.id}.tar.zst`))).toContain('notes/esc -> w/outside');

    const strict = await runCli([
      'restore',
      'latest',
      '--to',
      join(dir, 'strict'),
      '--refuse-escaping-links',
      '-c',
      config,
    ]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(
      /notes\/esc: symbolic link to "w\/outside" points outside the restore target \(through the link notes\/w\)/,
    );
    expect(await snapshotTree(outside)).toEqual(outsideBefore);
  });
});

/** Enough of a Destination for buildShard: objects become files, as the local plugin stores them. */
function folderStore(folder: string): Destination {
  return {
    async put(key: string, body: Readable) {
      await writeFile(join(folder, key), await buffer(body));
    },
  } as unknown as Destination;
}
