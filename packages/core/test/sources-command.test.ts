import { closeSync, existsSync, fstatSync, readFileSync, readSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandSourceConfig } from '../src/config/schema.js';
import { spoolCommandOutput } from '../src/sources/command.js';

let dir: string;
let opened: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-command-'));
});
afterEach(async () => {
  for (const fd of opened) closeSync(fd);
  opened = [];
  await rm(dir, { recursive: true, force: true });
});

/** spoolCommandOutput, with the descriptor it returns closed after the test. */
async function spool(config: CommandSourceConfig, file: string): Promise<number> {
  const fd = await spoolCommandOutput(config, file, dir);
  opened.push(fd);
  return fd;
}

function contents(fd: number): Buffer {
  const buffer = Buffer.alloc(fstatSync(fd).size);
  readSync(fd, buffer, 0, buffer.length, 0);
  return buffer;
}

const source = (command: string[], extra: Partial<CommandSourceConfig> = {}): CommandSourceConfig => ({
  name: 'db',
  type: 'command',
  command,
  filename: 'dump.sql',
  ...extra,
});

/** Whether `pid` runs (a zombie waiting for a busy init to reap it does not). */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('command source', () => {
  it('spools stdout to a 0600 file that has no name left, bytes intact, without a shell', async () => {
    const out = join(dir, 'out');
    // `$HOME` stays literal: argv is not given to a shell.
    const fd = await spool(source(['printf', '%s\\n', 'a b', '$HOME', 'ü']), out);
    expect(contents(fd).toString('utf8')).toBe('a b\n$HOME\nü\n');
    expect(fstatSync(fd).mode & 0o777).toBe(0o600);
    // Unlinked before the first byte: nothing of the dump survives the process.
    expect(existsSync(out)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('streams large output without holding it (8 MiB through head)', async () => {
    const out = join(dir, 'out');
    const fd = await spool(source(['head', '-c', String(8 * 1024 * 1024), '/dev/zero']), out);
    expect(fstatSync(fd).size).toBe(8 * 1024 * 1024);
  });

  it('runs in cwd, resolved against the config folder', async () => {
    await writeFile(join(dir, 'here.txt'), 'found');
    const out = join(dir, 'out');
    const fd = await spool(source(['cat', 'here.txt'], { cwd: '.' }), out);
    expect(contents(fd).toString('utf8')).toBe('found');
  });

  it('stops a command that outlives its timeout and fails naming the timeout', async () => {
    const script = 'echo dumping >&2; exec sleep 30';
    await expect(
      spoolCommandOutput(source(['sh', '-c', script], { timeout: '300ms' }), join(dir, 'out'), dir),
    ).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message:
        'source db: command sh was still running after its timeout of 300ms and was stopped; stderr:\ndumping',
    });
  });

  it('a timeout stops everything the command started, not only the command itself', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    // sh does not exec here: the sleep is a grandchild that SIGTERM to sh alone would leave running.
    const script = `sleep 30 & echo $! > '${pidFile}'; wait`;
    await expect(
      spoolCommandOutput(source(['sh', '-c', script], { timeout: '300ms' }), join(dir, 'out'), dir),
    ).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(runs(grandchild)).toBe(false);
  });

  it('lets a command that finishes within its timeout through', async () => {
    const out = join(dir, 'out');
    const fd = await spool(source(['printf', 'done'], { timeout: '30s' }), out);
    expect(contents(fd).toString('utf8')).toBe('done');
  });

  it('fails on a non-zero exit, quoting the last lines of stderr', async () => {
    const script = 'for i in $(seq 1 30); do echo "line $i" >&2; done; echo partial; exit 3';
    await expect(
      spoolCommandOutput(source(['sh', '-c', script]), join(dir, 'out'), dir),
    ).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `source db: command sh exited with code 3; stderr:\n${Array.from({ length: 10 }, (_, i) => `line ${i + 21}`).join('\n')}`,
    });
  });

  it('fails when killed by a signal', async () => {
    await expect(
      spoolCommandOutput(source(['sh', '-c', 'kill -TERM $$']), join(dir, 'out'), dir),
    ).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: expect.stringContaining('was killed by SIGTERM'),
    });
  });

  it('fails when it exits 0 with nothing on stdout but an error on stderr', async () => {
    await expect(
      spoolCommandOutput(source(['sh', '-c', 'echo "connection refused" >&2']), join(dir, 'out'), dir),
    ).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: expect.stringContaining('connection refused'),
    });
  });

  it('accepts empty output when stderr is empty too', async () => {
    const out = join(dir, 'out');
    const fd = await spool(source(['true']), out);
    expect(fstatSync(fd).size).toBe(0);
  });

  it('fails naming a program that does not exist', async () => {
    await expect(
      spoolCommandOutput(source(['no-such-program-xyz']), join(dir, 'out'), dir),
    ).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message:
        'source db: command no-such-program-xyz could not start: not found (is it installed and on PATH?)',
    });
  });
});
