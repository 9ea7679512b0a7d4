import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock, FOREIGN_LOCK_STALE_MS } from '../src/run/lock.js';
import { startTimeOf } from '../src/util/process-identity.js';

let dir: string;
let stateDir: string;
const config = '/etc/matric-backup/backup.yaml';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-lock-'));
  stateDir = join(dir, 'state');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (so it is certainly not running). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

async function plantLock(holder: {
  pid: number;
  pid_start?: string;
  boot_id?: string;
  host?: string;
  started_at?: string;
}): Promise<string> {
  const probe = await acquireRunLock(stateDir, config);
  const file = probe.file;
  await probe.release();
  await writeFile(
    file,
    JSON.stringify({
      host: hostname(),
      started_at: new Date().toISOString(),
      config,
      token: 'planted',
      ...holder,
    }),
    { mode: 0o600 },
  );
  return file;
}

describe('run lock', () => {
  it('creates a 0600 lock in a 0700 state folder naming pid, host and start, and removes it on release', async () => {
    const lock = await acquireRunLock(stateDir, config, { now: () => new Date('2026-01-01T02:00:00Z') });
    expect(lock.file).toMatch(/\/run-[0-9a-f]{16}\.lock$/);
    expect((await lstat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await lstat(lock.file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
      started_at: '2026-01-01T02:00:00.000Z',
      config,
    });
    await lock.release();
    expect(await readdir(stateDir)).toEqual([]);
  });

  it('refuses a second run of the same config with LOCKED naming the holder pid; other configs are independent', async () => {
    const lock = await acquireRunLock(stateDir, config);
    await expect(acquireRunLock(stateDir, config)).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringMatching(
        new RegExp(`^another run of ${config} is in progress \\(pid ${process.pid}, started `),
      ),
      hint: expect.stringContaining(lock.file),
    });
    const other = await acquireRunLock(stateDir, '/srv/other.yaml');
    await other.release();
    await lock.release();
    await (await acquireRunLock(stateDir, config)).release();
  });

  it('takes over a lock whose process is gone', async () => {
    const file = await plantLock({ pid: await deadPid() });
    const lock = await acquireRunLock(stateDir, config);
    expect(JSON.parse(await readFile(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('never takes over a live holder, however old its lock', async () => {
    const file = await plantLock({
      pid: process.pid,
      pid_start: startTimeOf(process.pid),
      started_at: new Date(Date.now() - 30 * 24 * 3_600_000).toISOString(),
    });
    const old = new Date(Date.now() - 30 * 24 * 3_600_000);
    await utimes(file, old, old);
    await expect(acquireRunLock(stateDir, config)).rejects.toMatchObject({ code: 'LOCKED' });
    expect(JSON.parse(await readFile(file, 'utf8')).token).toBe('planted');
  });

  it('takes over a lock whose pid now belongs to another process (a different start time)', async () => {
    const start = startTimeOf(process.pid)!;
    await plantLock({ pid: process.pid, pid_start: String(Number(start) - 1) });
    await (await acquireRunLock(stateDir, config)).release();
  });

  it('takes over a lock of an earlier boot', async () => {
    await plantLock({ pid: process.pid, pid_start: startTimeOf(process.pid), boot_id: 'an-earlier-boot' });
    await (await acquireRunLock(stateDir, config)).release();
  });

  it('keeps the lock of another host (its pid cannot be checked) while its heartbeat is fresh', async () => {
    const file = await plantLock({ pid: 1234567, host: 'other-host' });
    await expect(acquireRunLock(stateDir, config)).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining('(pid 1234567 on other-host, started'),
    });
    expect(JSON.parse(await readFile(file, 'utf8')).pid).toBe(1234567);
    const silent = new Date(Date.now() - FOREIGN_LOCK_STALE_MS - 60_000);
    await utimes(file, silent, silent);
    await (await acquireRunLock(stateDir, config)).release();
  });

  it('keys the lock by the real path: a symlinked config shares its target lock', async () => {
    const real = join(dir, 'real.yaml');
    const alias = join(dir, 'alias.yaml');
    await writeFile(real, 'backup: {}\n');
    await symlink(real, alias);
    const lock = await acquireRunLock(stateDir, real);
    await expect(acquireRunLock(stateDir, alias)).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining(`another run of ${real} (reached as ${alias}) is in progress`),
    });
    await lock.release();
  });

  it('takes over a torn (unparsable) lock file', async () => {
    const file = await plantLock({ pid: 1 });
    await writeFile(file, '{"pid": 12');
    await (await acquireRunLock(stateDir, config)).release();
  });

  it('release leaves a lock that another run took over alone', async () => {
    const lock = await acquireRunLock(stateDir, config);
    await writeFile(
      lock.file,
      JSON.stringify({ pid: 42, host: 'x', started_at: new Date().toISOString(), token: 'theirs' }),
    );
    await lock.release();
    expect(JSON.parse(await readFile(lock.file, 'utf8')).token).toBe('theirs');
  });

  it('an unusable state folder is a USAGE error naming it', async () => {
    await writeFile(join(dir, 'not-a-folder'), '');
    const bad = join(dir, 'not-a-folder', 'state');
    await expect(acquireRunLock(bad, config)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining(`cannot write the run lock in ${bad}`),
    });
  });

  it('lets exactly one of many concurrent attempts win', async () => {
    await mkdir(stateDir, { recursive: true });
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireRunLock(stateDir, config)),
    );
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
    expect(
      attempts
        .filter((attempt) => attempt.status === 'rejected')
        .map((attempt) => (attempt as PromiseRejectedResult).reason.code),
    ).toEqual(Array(7).fill('LOCKED'));
    expect((await readdir(stateDir)).filter((name) => !name.endsWith('.lock'))).toEqual([]);
  });
});
