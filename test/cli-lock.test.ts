import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, realpath, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';

const STACK_LINE = /^\s+at /m;

let work: Awaited<ReturnType<typeof tempDir>>;
let data: string;
const holders: ChildProcess[] = [];
let n = 0;

beforeAll(async () => {
  work = await tempDir('mb-e2e-lock-');
  data = join(work.path, 'data');
  await mkdir(data);
  await writeFile(join(data, 'a.txt'), 'alpha\n');
});
afterAll(async () => {
  for (const holder of holders) holder.kill('SIGKILL');
  await work?.cleanup();
});

async function caseWithConfig(): Promise<{ dir: string; config: string; disk: string }> {
  const dir = join(work.path, `case-${++n}`);
  await mkdir(dir);
  const disk = join(dir, 'disk');
  const config = await writeConfig(dir, {
    sources: [{ name: 'data', type: 'directory', path: data }],
    destinations: [{ name: 'disk', type: 'local', path: disk }],
  });
  return { dir, config, disk };
}

/** A live process this test owns, standing in for a run that holds the lock for hours. */
function liveProcess(): ChildProcess {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  holders.push(child);
  return child;
}

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** Writes the lock record a run of `config` would hold, as the CLI names it (hash of the real path). */
async function plantLock(dir: string, config: string, holder: Record<string, unknown>): Promise<string> {
  const real = await realpath(config);
  const file = join(dir, 'state', `run-${createHash('sha256').update(real).digest('hex').slice(0, 16)}.lock`);
  await mkdir(join(dir, 'state'), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ host: hostname(), config: real, token: 'planted', ...holder }), {
    mode: 0o600,
  });
  return file;
}

const sevenHoursAgo = () => new Date(Date.now() - 7 * 3_600_000);

describe('the run lock', () => {
  it('a live holder is never taken over, however old its lock; once it is gone the next run takes it at once', async () => {
    const { dir, config, disk } = await caseWithConfig();
    const holder = liveProcess();
    const lock = await plantLock(dir, config, {
      pid: holder.pid,
      pid_start: startTimeOf(holder.pid!),
      started_at: sevenHoursAgo().toISOString(),
    });
    await utimes(lock, sevenHoursAgo(), sevenHoursAgo());

    const blocked = await runCli(['run', '-c', config]);
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toContain(
      `another run of ${await realpath(config)} is in progress (pid ${holder.pid}`,
    );
    expect(blocked.stderr).not.toMatch(STACK_LINE);
    expect(await filesUnder(disk)).toEqual([]);

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const next = await runCli(['run', '-c', config]);
    expect(next.code).toBe(0);
    expect((await readdir(join(dir, 'state'))).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });

  it('a lock whose pid now belongs to another process (another start time) is taken over', async () => {
    const { dir, config } = await caseWithConfig();
    const other = liveProcess();
    await plantLock(dir, config, {
      pid: other.pid,
      pid_start: String(Number(startTimeOf(other.pid!)) - 1),
      started_at: new Date().toISOString(),
    });
    expect((await runCli(['run', '-c', config])).code).toBe(0);
    other.kill('SIGKILL');
  });

  it('a config reached through a symlink shares the lock of its real file: exit 4', async () => {
    const { dir, config } = await caseWithConfig();
    const alias = join(dir, 'alias.yaml');
    await symlink(config, alias);
    const holder = liveProcess();
    await plantLock(dir, config, {
      pid: holder.pid,
      pid_start: startTimeOf(holder.pid!),
      started_at: new Date().toISOString(),
    });
    const viaAlias = await runCli(['run', '-c', alias, '--json']);
    expect(viaAlias.code).toBe(4);
    expect(JSON.parse(viaAlias.stdout)).toMatchObject({
      ok: false,
      exit_code: 4,
      errors: [{ code: 'LOCKED' }],
    });
    expect(viaAlias.stderr).toContain(`(reached as ${alias})`);
    holder.kill('SIGKILL');
  });
});

describe('configs sharing a state_dir', () => {
  it("two configs started together 15 times: every run succeeds, neither touches the other's spool", async () => {
    const dir = join(work.path, 'shared-state');
    await mkdir(dir);
    const configs = await Promise.all(
      ['a', 'b'].map((name) =>
        // writeConfig puts both state folders at <dir>/state: one lock folder, one spool folder.
        writeConfig(
          dir,
          {
            sources: [
              { name: 'data', type: 'directory', path: data },
              // Spooled command output too: both runs write into the one spool folder.
              {
                name: 'dump',
                type: 'command',
                command: ['echo', name],
                filename: 'dump.txt',
              },
            ],
            destinations: [{ name: 'disk', type: 'local', path: join(dir, `disk-${name}`) }],
          },
          `${name}.yaml`,
        ),
      ),
    );
    for (let round = 0; round < 15; round++) {
      const results = await Promise.all(configs.map((config) => runCli(['run', '-c', config])));
      expect(results.map((result) => [result.code, result.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
    }
    for (const name of ['a', 'b']) {
      const sidecars = (await filesUnder(join(dir, `disk-${name}`))).filter((file) =>
        file.endsWith('.manifest.json'),
      );
      expect(sidecars).toHaveLength(15);
    }
    expect(await filesUnder(join(dir, 'state', 'spool'))).toEqual([]);
  });
});
