import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli, startCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

const NOBODY = '65534';
const STACK_LINE = /^\s+at /m;

/** The paths a process has open, from /proc: how the test knows where the run is. */
function openPaths(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

async function sidecarOf(destination: string): Promise<Record<string, unknown>> {
  const name = (await readdir(destination)).find((file) => file.endsWith('.manifest.json'))!;
  return JSON.parse(await readFile(join(destination, name), 'utf8'));
}

async function archiveOf(destination: string): Promise<string> {
  return join(destination, (await readdir(destination)).find((file) => file.endsWith('.tar.zst'))!);
}

describe('files that cannot be read completely: completed with warnings (exit 5)', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;
  const fresh = async () => {
    const dir = join(work.path, `case-${++n}`);
    await mkdir(dir);
    return dir;
  };

  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(() => work.cleanup());

  it('a writer deletes and creates files while the run reads the folder: the shard is stored, the vanished paths are listed', async () => {
    const dir = await fresh();
    const data = join(dir, 'data');
    await mkdir(data);
    // Read in name order: `big` first, the victims after it, so they are listed before they go.
    const big = join(data, 'a-big.bin');
    await writeFile(big, randomBytes(32 << 20));
    const victims = ['m-victim-1.txt', 'm-victim-2.txt', 'm-victim-3.txt'];
    for (const name of victims) await writeFile(join(data, name), name);
    await writeFile(join(data, 'z-stays.txt'), 'stays\n');
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      sources: [{ name: 'data', type: 'directory', path: data }],
      destinations: [{ name: 'local', type: 'local', path: store }],
    });

    const { pid, result } = startCli(['run', '--json', '-c', config]);
    let acted = false;
    let done = false;
    const writer = (async () => {
      // Once the run has `big` open, it has listed the folder: now the victims go and new files come.
      while (!done && !openPaths(pid).includes(big)) await new Promise((wake) => setTimeout(wake, 2));
      if (done) return;
      for (const name of victims) await rm(join(data, name));
      for (let i = 0; i < 20; i++) await writeFile(join(data, `new-${i}.txt`), 'new\n');
      acted = true;
    })();
    const run = await result;
    done = true;
    await writer;
    expect(acted).toBe(true);

    expect(run.code, run.stderr).toBe(5);
    const summary = JSON.parse(run.stdout);
    const listed = victims.map((name) => ({
      code: 'VANISHED',
      path: `data/${name}`,
      reason: 'removed while the backup ran',
    }));
    expect(summary).toMatchObject({ schema_version: 1, status: 'warning', exit_code: 5 });
    // Each path as a coded warning naming its source and path; the manifest lists them as stored.
    expect(summary.warnings).toEqual(
      victims.map((name) => ({
        code: 'FILE_VANISHED',
        message: `source data: ${join(data, name)}: removed while the backup ran (VANISHED)`,
        source: 'data',
        path: `data/${name}`,
      })),
    );
    expect(summary.manifest.warnings).toEqual(listed);
    expect(summary.destinations[0]).toMatchObject({ name: 'local', status: 'success' });
    for (const name of victims)
      expect(run.stderr).toContain(
        `warning: source data: ${join(data, name)}: removed while the backup ran (VANISHED)`,
      );
    expect(run.stderr).not.toMatch(STACK_LINE);

    expect((await sidecarOf(store)).warnings).toEqual(listed);
    const names = execFileSync('tar', ['--zstd', '-tf', await archiveOf(store)], { encoding: 'utf8' }).split(
      '\n',
    );
    expect(names).toContain('data/a-big.bin');
    expect(names).toContain('data/z-stays.txt');
    for (const name of victims) expect(names).not.toContain(`data/${name}`);

    const verify = await runCli(['verify', '--latest', '-c', config]);
    expect(verify.code, verify.stderr).toBe(0);
    const history = await runCli(['history', '--json', '-c', config]);
    // Newest first: the verify, then the run it checked.
    const [verified, backup] = JSON.parse(history.stdout).runs;
    expect(verified).toMatchObject({ kind: 'verify', exit_code: 0 });
    expect(backup).toMatchObject({
      status: 'warning',
      exit_code: 5,
      warnings: 3,
    });
    expect(backup.kind ?? 'backup').toBe('backup');
  });

  describe('run as an unprivileged user, so permission bits apply', () => {
    let dir: string;
    let data: string;
    beforeAll(async () => {
      dir = await fresh();
      // The whole case is nobody's to write: config, state, destination.
      await chmod(work.path, 0o755);
      await chmod(dir, 0o777);
      data = join(dir, 'data');
      await mkdir(join(data, 'locked'), { recursive: true });
      await writeFile(join(data, 'a.txt'), 'alpha\n');
      await writeFile(join(data, 'secret.key'), 'key\n');
      await writeFile(join(data, 'locked', 'inside.txt'), 'inside\n');
      await chmod(join(data, 'secret.key'), 0o000);
      await chmod(join(data, 'locked'), 0o000);
    });

    const asNobody = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        try {
          const stdout = execFileSync(
            'setpriv',
            ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', process.execPath, CLI_BIN, ...args],
            { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', HOME: dir }, stdio: 'pipe' },
          );
          resolve({ code: 0, stdout, stderr: '' });
        } catch (error) {
          const failed = error as { status: number; stdout: string; stderr: string };
          resolve({ code: failed.status, stdout: failed.stdout, stderr: failed.stderr });
        }
      });

    it('an unreadable file and folder are warnings: stored without them, exit 5, listed with their reason', async () => {
      const store = join(dir, 'store-warn');
      const config = await writeConfig(
        dir,
        {
          sources: [{ name: 'data', type: 'directory', path: data }],
          destinations: [{ name: 'local', type: 'local', path: store }],
        },
        'warn.yaml',
      );
      const run = await asNobody(['run', '-c', config]);
      expect(run.code, run.stderr).toBe(5);
      expect(run.stderr).toContain(
        `warning: source data: ${join(data, 'secret.key')}: permission denied (UNREADABLE)`,
      );
      expect(run.stderr).toContain(
        `warning: source data: ${join(data, 'locked')}: permission denied (UNREADABLE)`,
      );
      expect(run.stderr).toContain('completed with warnings: 2 paths not archived whole');
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect((await sidecarOf(store)).warnings).toEqual([
        { code: 'UNREADABLE', path: 'data/locked', reason: 'permission denied' },
        { code: 'UNREADABLE', path: 'data/secret.key', reason: 'permission denied' },
      ]);
    });

    it('with on_error: fail the same tree fails the run (exit 1) and stores nothing', async () => {
      const store = join(dir, 'store-fail');
      const config = await writeConfig(
        dir,
        {
          sources: [{ name: 'data', type: 'directory', path: data, on_error: 'fail' }],
          destinations: [{ name: 'local', type: 'local', path: store }],
        },
        'fail.yaml',
      );
      const run = await asNobody(['run', '-c', config]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `error: source data: cannot read ${join(data, 'locked')}: permission denied (EACCES)`,
      );
      expect(await readdir(store).catch(() => [])).toEqual([]);
    });
  });

  it('a missing source folder is an error (exit 1), not a file removed during the run', async () => {
    const dir = await fresh();
    const missing = join(dir, 'nope');
    const config = await writeConfig(dir, {
      sources: [{ name: 'data', type: 'directory', path: missing }],
      destinations: [{ name: 'local', type: 'local', path: join(dir, 'store') }],
    });
    const run = await runCli(['run', '-c', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: source data: ${missing} does not exist`);
    expect(run.stderr).not.toContain('removed while');
  });
});
