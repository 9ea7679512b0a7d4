import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

// What a plain copy loses and a backup must not: hard links and holes.
describe('hard links and sparse files', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let source: string;
  let shard: string;

  beforeAll(async () => {
    work = await tempDir();
    source = join(work.path, 'source');
    await mkdir(join(source, 'a'), { recursive: true });
    await mkdir(join(source, 'b'));
    await writeFile(join(source, 'a/first.txt'), 'one inode, three names\n');
    await link(join(source, 'a/first.txt'), join(source, 'a/second.txt'));
    await link(join(source, 'a/first.txt'), join(source, 'b/third.txt'));
    await writeFile(join(source, 'b/alone.txt'), 'a single name\n');
    // 256 MiB with a few KiB of data: ~12 KiB allocated.
    const image = await open(join(source, 'disk.img'), 'wx');
    await image.write('start', 0);
    await image.write('middle', 100 << 20);
    await image.write('end', (256 << 20) - 3);
    await image.close();
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: source }],
      destinations: [{ name: 'disk', type: 'local', path: join(work.path, 'backups') }],
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    shard = join(work.path, 'backups', summary.archive.key);
    expect(summary.manifest.counts).toMatchObject({ files: 5, hardlinks: 2 });
  });
  afterAll(() => work.cleanup());

  /** Inode groups under `root`: names of each regular file sharing an inode with another, sorted. */
  async function linkGroups(root: string): Promise<string[][]> {
    const groups = new Map<number, string[]>();
    for (const name of (await readdir(root, { recursive: true })).sort()) {
      const info = await lstat(join(root, name));
      if (info.isFile() && info.nlink > 1) groups.set(info.ino, [...(groups.get(info.ino) ?? []), name]);
    }
    return [...groups.values()].map((names) => names.sort()).sort();
  }

  it('stores the later names as tar hard links that GNU tar extracts as links', async () => {
    const listing = execFileSync('tar', ['--zstd', '-tvf', shard], { encoding: 'utf8' });
    expect(listing).toMatch(/^h.* data\/a\/second\.txt link to data\/a\/first\.txt$/m);
    expect(listing).toMatch(/^h.* data\/b\/third\.txt link to data\/a\/first\.txt$/m);
    const byTar = join(work.path, 'by-tar');
    await mkdir(byTar);
    execFileSync('tar', ['--zstd', '-xf', shard, '-C', byTar]);
    expect(await linkGroups(join(byTar, 'data'))).toEqual([['a/first.txt', 'a/second.txt', 'b/third.txt']]);
  });

  it('restores the same hard-link groups and the sparse file with its holes', async () => {
    const to = join(work.path, 'restored');
    const restore = await runCli(['restore', 'latest', '-c', config, '--to', to]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(await linkGroups(join(to, 'data'))).toEqual(await linkGroups(source));
    expect(await linkGroups(join(to, 'data'))).toEqual([['a/first.txt', 'a/second.txt', 'b/third.txt']]);

    const image = await lstat(join(to, 'data/disk.img'));
    expect(image.size).toBe(256 << 20);
    // Three 4 KiB blocks of data; a fully written copy would have 65,536.
    expect(image.blocks * 512).toBeLessThanOrEqual(64 * 1024);
    execFileSync('cmp', [join(source, 'disk.img'), join(to, 'data/disk.img')]);
  });

  it('verify accepts the hard links', async () => {
    const verify = await runCli(['verify', '--latest', '-c', config]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });
});

// Run as root (the e2e suite is): owners come back by default, by name where the name exists.
describe('owners', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let source: string;
  const owners: Array<[string, number, number]> = [
    ['shadowed', 0, 42], // root:shadow, as /etc/shadow
    ['daemon-file', 1, 1], // daemon:daemon
    ['numbers-only', 4321, 4321], // no name on this machine
    ['dir', 65534, 8], // nobody:mail
    ['dir/inside', 4321, 42],
    ['dir/link', 1, 8],
  ];

  beforeAll(async () => {
    work = await tempDir();
    source = join(work.path, 'source');
    await mkdir(join(source, 'dir'), { recursive: true });
    for (const name of ['shadowed', 'daemon-file', 'numbers-only', 'dir/inside'])
      await writeFile(join(source, name), `${name}\n`);
    await symlink('inside', join(source, 'dir/link'));
    for (const [name, uid, gid] of owners) await lchown(join(source, name), uid, gid);
    await chmod(join(source, 'daemon-file'), 0o4750);
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: source }],
      destinations: [{ name: 'disk', type: 'local', path: join(work.path, 'backups') }],
    });
    const run = await runCli(['run', '-c', config]);
    expect(run.code).toBe(0);
  });
  afterAll(() => work.cleanup());

  const ownersUnder = async (root: string) =>
    Promise.all(
      owners.map(async ([name]) => {
        const info = await lstat(join(root, name));
        return [name, info.uid, info.gid];
      }),
    );

  it('records ids and names in the tar headers', () => {
    const listing = execFileSync(
      'tar',
      ['--zstd', '-tvf', join(work.path, 'backups', shardFile(work.path))],
      {
        encoding: 'utf8',
      },
    );
    expect(listing).toMatch(/^-rw-r--r-- root\/shadow .* data\/shadowed$/m);
    expect(listing).toMatch(/^-rwsr-x--- daemon\/daemon .* data\/daemon-file$/m);
    expect(listing).toMatch(/^-rw-r--r-- 4321\/4321 .* data\/numbers-only$/m);
  });

  it('restores every owner as root, setuid bits included', async () => {
    const to = join(work.path, 'kept');
    const restore = await runCli(['restore', 'latest', '-c', config, '--to', to]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(await ownersUnder(join(to, 'data'))).toEqual(owners);
    expect((await lstat(join(to, 'data/daemon-file'))).mode & 0o7777).toBe(0o4750);

    const numeric = join(work.path, 'numeric');
    expect((await runCli(['restore', 'latest', '-c', config, '--to', numeric, '--numeric-owner'])).code).toBe(
      0,
    );
    expect(await ownersUnder(join(numeric, 'data'))).toEqual(owners);
  });

  it('gives everything to root with --no-preserve-owner, without setuid bits', async () => {
    const to = join(work.path, 'dropped');
    const restore = await runCli(['restore', 'latest', '-c', config, '--to', to, '--no-preserve-owner']);
    expect(restore.code).toBe(0);
    expect(await ownersUnder(join(to, 'data'))).toEqual(owners.map(([name]) => [name, 0, 0]));
    expect((await lstat(join(to, 'data/daemon-file'))).mode & 0o7777).toBe(0o750);
  });
});

function shardFile(dir: string): string {
  return readdirSync(join(dir, 'backups')).find((name) => name.endsWith('.tar.zst'))!;
}

describe('restore --in-place, and the mode of a new target', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let source: string;
  let pristine: string;
  let sidecar: string;
  const cli = (...args: string[]) => runCli(['restore', 'latest', '-c', config, ...args]);
  /** rsync's itemized differences (empty: same types, modes, owners, mtimes, links, hard links, contents). */
  const differences = (from: string, to: string, ...extra: string[]) =>
    execFileSync(
      'rsync',
      ['-aHAX', '--numeric-ids', '--delete', '-n', '-i', ...extra, `${from}/`, `${to}/`],
      {
        encoding: 'utf8',
      },
    );

  beforeAll(async () => {
    work = await tempDir();
    source = join(work.path, 'srv/notes');
    await mkdir(join(source, '2025/january'), { recursive: true });
    await writeFile(join(source, 'todo.md'), 'buy milk\n');
    await writeFile(join(source, '2025/january/report.md'), 'all good\n');
    await writeFile(join(source, '2025/plan.md'), 'plan\n');
    await link(join(source, 'todo.md'), join(source, '2025/todo-link.md'));
    await symlink('/etc/hostname', join(source, 'hostname'));
    await lchown(join(source, '2025/plan.md'), 1, 42);
    await chmod(source, 0o751);
    pristine = join(work.path, 'pristine');
    execFileSync('cp', ['-a', source, pristine]);
    config = await writeConfig(work.path, {
      sources: [
        { name: 'notes', type: 'directory', path: source },
        { name: 'db', type: 'command', command: ['echo', 'dump'], filename: 'dump.sql' },
      ],
      destinations: [{ name: 'disk', type: 'local', path: join(work.path, 'backups') }],
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(0);
    const { manifest } = JSON.parse(run.stdout);
    expect(manifest.origins).toEqual([
      { name: 'notes', type: 'directory', path: source },
      { name: 'db', type: 'command' },
    ]);
    sidecar = join(work.path, 'backups', `${manifest.id}.manifest.json`);
  });
  afterAll(() => work.cleanup());

  it('info shows where each source came from', async () => {
    const info = await runCli(['info', 'latest', '-c', config]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`^sources\\s+notes \\(${source}\\), db$`, 'm'));
  });

  it('a new target gets the source folder mode, not 0700', async () => {
    const to = join(work.path, 'fresh');
    expect((await cli('--to', to)).code).toBe(0);
    expect((await lstat(to)).mode & 0o7777).toBe(0o751);
    expect(differences(pristine, join(to, 'notes'))).toBe('');
  });

  it('puts changed and deleted entries back at the recorded path', async () => {
    await writeFile(join(source, 'todo.md'), 'changed since the backup\n');
    await rm(join(source, '2025/january'), { recursive: true });
    await rm(join(source, 'hostname'));
    await lchown(join(source, '2025/plan.md'), 0, 0);
    await writeFile(join(source, 'new.md'), 'not in the shard\n');

    const refused = await cli('--in-place');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`restore target ${source} is not empty`);

    const dry = await cli('--in-place', '--conflict', 'overwrite', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('overwrite notes/todo.md');
    expect(dry.stdout).toContain('create    notes/2025/january/report.md');
    expect(dry.stdout).toContain('create    notes/hostname');
    expect(await readFile(join(source, 'todo.md'), 'utf8')).toBe('changed since the backup\n');

    const restore = await cli('--in-place', '--conflict', 'overwrite');
    expect(restore.code).toBe(0);
    expect(restore.stderr).toContain("source db is a command's output, with no place of its own");
    // Entries only in the target are never touched.
    expect(await readFile(join(source, 'new.md'), 'utf8')).toBe('not in the shard\n');
    await rm(join(source, 'new.md'));
    // Folders that existed keep their own mtime (changed by the deletions): compared without them.
    expect(differences(pristine, source, '--omit-dir-times')).toBe('');
  });

  it('recreates a deleted source folder whole, with its mode and owner', async () => {
    await rm(source, { recursive: true });
    const restore = await cli('--in-place', '--include', 'notes/**');
    expect(restore.code).toBe(0);
    expect(restore.stderr).toBe('');
    expect(differences(pristine, source)).toBe('');
  });

  it('refuses a sidecar whose recorded path differs from the archive manifest, and one without paths', async () => {
    const original = await readFile(sidecar, 'utf8');
    const elsewhere = join(work.path, 'elsewhere');
    try {
      const manifest = JSON.parse(original);
      manifest.origins[0].path = elsewhere;
      await writeFile(sidecar, JSON.stringify(manifest));
      const tampered = await cli('--in-place');
      expect(tampered.code).toBe(1);
      expect(tampered.stderr).toContain(`source notes: the sidecar says it came from ${elsewhere}`);
      expect(existsSync(elsewhere)).toBe(false);

      delete manifest.origins;
      await writeFile(sidecar, JSON.stringify(manifest));
      const old = await cli('--in-place');
      expect(old.code).toBe(1);
      expect(old.stderr).toContain('does not record where its sources came from');
    } finally {
      await writeFile(sidecar, original);
    }
  });
});
