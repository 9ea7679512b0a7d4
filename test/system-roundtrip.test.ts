import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

// The folders people really back up, read in place on this (Debian) machine: every symlink (absolute,
// outside, dangling), hard link, owner, group, mode and mtime must come back. rsync -n -i prints one line
// per entry that differs in any of them (type, content, -H hard-link groups, -A ACLs, -X xattrs).
const SYSTEM_SOURCES = [
  { name: 'etc', path: '/etc' },
  { name: 'doc', path: '/usr/share/doc' },
  { name: 'dpkg', path: '/var/lib/dpkg' },
];

/** rsync's itemized differences between two trees (empty when they are the same). */
function differences(from: string, to: string, ...extra: string[]): string {
  return execFileSync(
    'rsync',
    ['-aHAX', '--numeric-ids', '--delete', '--dry-run', '--itemize-changes', ...extra, `${from}/`, `${to}/`],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

const entriesUnder = (root: string) =>
  Number(execFileSync('sh', ['-c', 'find "$1" | wc -l', 'sh', root], { encoding: 'utf8' }).trim());

describe.runIf(process.getuid?.() === 0)('system folders, as root', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(() => work.cleanup());

  it('/etc, /usr/share/doc and /var/lib/dpkg: backed up to two destinations, restored, identical', async () => {
    const config = await writeConfig(work.path, {
      sources: SYSTEM_SOURCES.map((source) => ({ ...source, type: 'directory' })),
      destinations: [
        { name: 'disk-a', type: 'local', path: join(work.path, 'a') },
        { name: 'disk-b', type: 'local', path: join(work.path, 'b') },
      ],
    });
    const run = await runCli(['run', '-c', config, '--json'], { timeoutMs: 400_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.destinations.map((d: { status: string }) => d.status)).toEqual(['success', 'success']);
    // GNU tar reads it too, one line per entry plus the manifest.
    const shard = join(work.path, 'a', summary.archive.key);
    const listed = execFileSync('tar', ['--zstd', '-tf', shard], { maxBuffer: 64 << 20, encoding: 'utf8' });
    const { counts } = summary.manifest;
    expect(listed.trimEnd().split('\n')).toHaveLength(
      counts.files + counts.directories + counts.symlinks + 1,
    );

    // From the second destination: the first one's copy is not the only one that works.
    const to = join(work.path, 'restored');
    const restore = await runCli(['restore', 'latest', '-c', config, '-d', 'disk-b', '--to', to], {
      timeoutMs: 400_000,
    });
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);

    let compared = 0;
    for (const { name, path } of SYSTEM_SOURCES) {
      expect(differences(path, join(to, name)), path).toBe('');
      compared += entriesUnder(path);
    }
    console.info(`system round trip: ${compared} entries compared, 0 differences`);
  }, 600_000);

  it('restore --in-place onto a copy of /etc with files changed and deleted', async () => {
    // Two copies made together: the live /etc may change meanwhile (a package install, another test).
    const pristine = join(work.path, 'etc-pristine');
    const copy = join(work.path, 'etc-copy');
    execFileSync('cp', ['-a', '/etc', pristine]);
    execFileSync('cp', ['-a', '/etc', copy]);
    expect(differences(pristine, copy)).toBe('');
    const config = await writeConfig(
      work.path,
      {
        sources: [{ name: 'etc', type: 'directory', path: copy }],
        destinations: [{ name: 'disk', type: 'local', path: join(work.path, 'in-place') }],
      },
      'in-place.yaml',
    );
    expect((await runCli(['run', '-c', config])).code).toBe(0);

    await writeFile(join(copy, 'hostname'), 'changed\n');
    await writeFile(
      join(copy, 'passwd'),
      `${await readFile(join(copy, 'passwd'), 'utf8')}intruder:x:0:0::/:/bin/sh\n`,
    );
    await rm(join(copy, 'shadow'));
    await rm(join(copy, 'ssl'), { recursive: true });
    await rm(join(copy, 'os-release'));
    execFileSync('chown', ['0:0', join(copy, 'gshadow')]);
    expect(differences(pristine, copy)).not.toBe('');

    const restore = await runCli([
      'restore',
      'latest',
      '-c',
      config,
      '--in-place',
      '--conflict',
      'overwrite',
    ]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    // Folders that existed keep their own mtime (the deletions changed it): compared without folder times.
    expect(differences(pristine, copy, '--omit-dir-times')).toBe('');
  }, 300_000);
});
