import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { canMount, withTmpfs } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli, startCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';

const STACK_LINE = /^\s+at /m;

let work: Awaited<ReturnType<typeof tempDir>>;
let data: string;
let n = 0;

beforeAll(async () => {
  work = await tempDir('mb-e2e-process-');
  data = join(work.path, 'data');
  await mkdir(data);
  await writeFile(join(data, 'a.txt'), 'alpha\n');
});
afterAll(async () => {
  await work?.cleanup();
});

async function freshDir(): Promise<string> {
  const dir = join(work.path, `case-${++n}`);
  await mkdir(dir);
  return dir;
}

const entriesOf = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('a command source that hangs', () => {
  it('sh -c "sleep 1000" with timeout 2s: the whole group is stopped, exit 1 within seconds, lock released', async () => {
    const dir = await freshDir();
    const disk = join(dir, 'disk');
    const config = await writeConfig(dir, {
      sources: [
        { name: 'hung', type: 'command', command: ['sh', '-c', 'sleep 1000'], filename: 'x', timeout: '2s' },
      ],
      destinations: [{ name: 'disk', type: 'local', path: disk }],
    });
    // Killed (and so failing the exit code check) if the run still waits for the sleep after 10 s.
    const result = await runCli(['run', '-c', config], { timeoutMs: 10_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('was still running after its timeout of 2s and was stopped');
    expect(result.stderr).toMatch(/^hint: raise the timeout of source hung/m);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(entriesOf(join(dir, 'state')).filter((name) => name.endsWith('.lock'))).toEqual([]);
    expect(await filesUnder(disk)).toEqual([]);
  });
});

/** Runs `matric-backup ARGS` in bash with `redirect` appended (`2>/dev/full`, `| head -0`); the CLI's own exit code. */
function runShell(args: string[], redirect: string): Promise<{ code: number; stderr: string }> {
  const quoted = [process.execPath, CLI_BIN, ...args].map((arg) => `'${arg}'`).join(' ');
  const child = spawn('bash', ['-c', `${quoted} ${redirect}; echo "cli-exit=\${PIPESTATUS[0]}" >&3`], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let status = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const statusPipe = child.stdio[3];
  if (!(statusPipe instanceof Readable)) throw new Error('fd 3 of the shell is not a pipe');
  statusPipe.setEncoding('utf8').on('data', (chunk: string) => (status += chunk));
  return new Promise((resolve) =>
    child.on('close', () => resolve({ code: Number(/cli-exit=(\d+)/.exec(status)?.[1] ?? -1), stderr })),
  );
}

describe('output that cannot be written', () => {
  /** A config whose run warns (an optional destination fails), so there is something for stderr. */
  async function warningConfig(dir: string): Promise<string> {
    await writeFile(join(dir, 'a-file'), '');
    return writeConfig(dir, {
      sources: [{ name: 'data', type: 'directory', path: data }],
      destinations: [
        { name: 'disk', type: 'local', path: join(dir, 'disk') },
        { name: 'broken', type: 'local', path: join(dir, 'a-file', 'sub'), required: false },
      ],
      retry: { max_retries: 0 },
    });
  }

  async function expectFinishedRun(dir: string, config: string): Promise<void> {
    const files = await filesUnder(join(dir, 'disk'));
    expect(files.filter((file) => file.endsWith('.manifest.json'))).toHaveLength(1);
    expect((await runCli(['verify', '--latest', '-d', 'disk', '-c', config])).code).toBe(0);
    const history = JSON.parse((await runCli(['history', '-c', config, '--json'])).stdout);
    // Newest first: the verify just made, then the run.
    expect(history.runs.map((run: { kind?: string; status: string }) => [run.kind, run.status])).toEqual([
      ['verify', 'success'],
      ['backup', 'success'],
    ]);
    expect(entriesOf(join(dir, 'state')).filter((name) => name.endsWith('.lock'))).toEqual([]);
    expect(await filesUnder(join(dir, 'state', 'spool'))).toEqual([]);
  }

  it('stderr on a full disk (2>/dev/full): the run finishes, stores, records history, releases everything', async () => {
    const dir = await freshDir();
    const config = await warningConfig(dir);
    const result = await runShell(['run', '-c', config], '2>/dev/full');
    expect(result.code).toBe(0);
    await expectFinishedRun(dir, config);
  });

  it('stdout into a reader that is gone (| head -0): run and list exit with their own code, no stack trace', async () => {
    const dir = await freshDir();
    const config = await warningConfig(dir);
    const run = await runShell(['run', '-c', config], '| head -0');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: .*broken/m);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.stderr).not.toContain('EPIPE');
    await expectFinishedRun(dir, config);

    const list = await runShell(['list', '-c', config], '| head -0');
    expect(list.code).toBe(0);
    expect(list.stderr).not.toMatch(STACK_LINE);
    expect(list.stderr).not.toContain('EPIPE');
  });
});

/** Every file below `root` whose bytes contain `marker`. */
async function filesContaining(root: string, marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(root)) {
    const bytes = await readFile(join(root, file)).catch(() => Buffer.alloc(0));
    if (bytes.includes(marker)) found.push(file);
  }
  return found;
}

async function until(found: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!found()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the spool', () => {
  it("kill -9 during a run leaves no plaintext dump; the next run removes the dead run's folder", async () => {
    const dir = await freshDir();
    const marker = 'PLAINTEXT-DUMP-4f1c9a';
    const pidFile = join(dir, 'dump.pid');
    const config = await writeConfig(dir, {
      sources: [
        {
          name: 'db',
          type: 'command',
          // Writes the "dump", then keeps the run busy until the test has killed it.
          command: ['sh', '-c', `echo ${marker}; echo $$ > '${pidFile}'; sleep 30`],
          filename: 'dump.sql',
        },
      ],
      destinations: [{ name: 'disk', type: 'local', path: join(dir, 'disk') }],
    });
    const cli = startCli(['run', '-c', config]);
    await until(() => existsSync(pidFile) && readdirSync(dir).includes('state'), 'the dump to start');
    const dumpGroup = Number(await readFile(pidFile, 'utf8'));
    try {
      // Give the CLI a moment to copy the marker into its spool file, then kill it outright.
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(cli.pid, 'SIGKILL');
      await cli.result;
      expect(await filesContaining(join(dir, 'state'), marker)).toEqual([]);
    } finally {
      // The command runs in its own process group, which a kill -9 of the CLI does not reach.
      process.kill(-dumpGroup, 'SIGKILL');
    }
    expect(entriesOf(join(dir, 'state', 'spool'))).toHaveLength(1);

    await writeConfig(dir, {
      sources: [{ name: 'data', type: 'directory', path: data }],
      destinations: [{ name: 'disk', type: 'local', path: join(dir, 'disk') }],
    });
    expect((await runCli(['run', '-c', config])).code).toBe(0);
    expect(entriesOf(join(dir, 'state', 'spool'))).toEqual([]);
  });

  it.runIf(canMount)(
    'a full spool disk is NO_SPACE naming the spool path, not the dump command failing',
    async () => {
      const dir = await freshDir();
      await withTmpfs(
        dir,
        async (spool) => {
          const config = await writeConfig(dir, {
            spool_dir: spool,
            sources: [
              {
                name: 'db',
                type: 'command',
                // Like a database dump: a write error on its output is reported as a dropped connection.
                command: [
                  'sh',
                  '-c',
                  'head -c 4000000 /dev/zero || { echo "Connection reset by peer" >&2; exit 1; }',
                ],
                filename: 'dump.sql',
              },
            ],
            destinations: [{ name: 'disk', type: 'local', path: join(dir, 'disk') }],
          });
          const result = await runCli(['run', '-c', config, '--json']);
          expect(result.code).toBe(1);
          const summary = JSON.parse(result.stdout);
          expect(summary.errors).toEqual([expect.objectContaining({ code: 'NO_SPACE' })]);
          expect(summary.errors[0].message).toContain(spool);
          expect(summary.errors[0].message).not.toMatch(/reset by peer|SIGPIPE|SIGTERM/);
          expect(await filesUnder(join(dir, 'disk'))).toEqual([]);
          expect(readdirSync(spool)).toEqual([]);
        },
        { size: '1m' },
      );
    },
  );
});

describe('a local destination on a disk that must be mounted', () => {
  it.runIf(canMount)(
    'after umount the run refuses to write to the folder underneath: exit 1, check fails, nothing written',
    async () => {
      const dir = await freshDir();
      const usb = join(dir, 'usb');
      await mkdir(usb);
      const config = await writeConfig(dir, {
        sources: [{ name: 'data', type: 'directory', path: data }],
        destinations: [{ name: 'usb', type: 'local', path: join(usb, 'backups'), mount_point: usb }],
        retry: { max_retries: 0 },
      });
      // A real mount (tests run as root); a tmpfs stands in for the USB disk.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', usb]);
      let mounted = true;
      try {
        expect((await runCli(['run', '-c', config])).code).toBe(0);
        expect((await filesUnder(join(usb, 'backups'))).length).toBe(3);
        execFileSync('umount', [usb]);
        mounted = false;

        const run = await runCli(['run', '-c', config, '--json']);
        expect(run.code).toBe(1);
        const [usbResult] = JSON.parse(run.stdout).destinations;
        expect(usbResult.status).toBe('failed');
        expect(usbResult.error).toMatchObject({ code: 'CONFIG' });
        expect(usbResult.error.message).toContain(`mount_point ${usb} is not a mount point`);
        const check = await runCli(['check', '-c', config]);
        expect(check.code).not.toBe(0);
        expect(check.stdout + check.stderr).toContain('is not a mount point');
        expect(check.stderr).not.toMatch(STACK_LINE);
        expect(readdirSync(usb)).toEqual([]);
      } finally {
        if (mounted) execFileSync('umount', [usb]);
      }
    },
  );
});
