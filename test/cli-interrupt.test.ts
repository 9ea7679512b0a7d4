import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir('mb-e2e-interrupt-');
});
afterAll(async () => {
  await work?.cleanup();
});

/** Polls until `found()` holds; the work being interrupted must be seen under way first. */
async function until(found: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!found()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const entriesOf = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('interrupted by a signal', () => {
  it('a run: exit 130, no spool file left, the lock released, nothing stored', async () => {
    const dir = join(work.path, 'run');
    await mkdir(dir);
    const spool = join(dir, 'spool');
    const disk = join(dir, 'disk');
    const config = await writeConfig(dir, {
      spool_dir: spool,
      sources: [
        // Writes a little, then keeps the run busy archiving until it is interrupted.
        {
          name: 'slow',
          type: 'command',
          command: ['sh', '-c', 'echo started; sleep 20'],
          filename: 'out.txt',
        },
      ],
      destinations: [{ name: 'disk', type: 'local', path: disk }],
    });
    const lockFiles = () => entriesOf(join(dir, 'state')).filter((name) => name.endsWith('.lock'));

    const cli = startCli(['run', '-c', config]);
    await until(() => entriesOf(spool).length > 0 && lockFiles().length > 0, 'the run to start spooling');
    process.kill(cli.pid, 'SIGINT');
    const result = await cli.result;

    expect(result.code).toBe(130);
    expect(result.stderr).toContain('interrupted by SIGINT');
    expect(entriesOf(spool)).toEqual([]);
    expect(lockFiles()).toEqual([]);
    expect(await filesUnder(disk)).toEqual([]);
    // The lock is free: the next run starts (and is interrupted again, by SIGTERM this time).
    const next = startCli(['run', '-c', config]);
    await until(() => entriesOf(spool).length > 0, 'the next run to start spooling');
    process.kill(next.pid, 'SIGTERM');
    expect((await next.result).code).toBe(143);
    expect(entriesOf(spool)).toEqual([]);
    // Nor the destinations' scratch folders.
    expect(entriesOf(join(dir, 'state', 'tmp'))).toEqual([]);
  });

  it('a run killed with SIGKILL: the next run removes the file list the killed one was writing', async () => {
    const dir = join(work.path, 'killed');
    await mkdir(join(dir, 'source'), { recursive: true });
    await writeFile(join(dir, 'source', 'a.txt'), 'alpha');
    const slow = join(dir, 'slow');
    const config = await writeConfig(dir, {
      sources: [
        { name: 'data', type: 'directory', path: join(dir, 'source') },
        // Keeps a run busy archiving while the file `slow` exists.
        {
          name: 'dump',
          type: 'command',
          command: ['sh', '-c', `echo started; if [ -e '${slow}' ]; then sleep 20; fi`],
          filename: 'out.txt',
        },
      ],
      destinations: [{ name: 'disk', type: 'local', path: join(dir, 'disk') }],
      incremental: {},
    });
    const lists = join(dir, 'state', 'file-lists');
    const partials = () => entriesOf(lists).filter((name) => name.endsWith('.partial'));
    expect((await runCli(['run', '-c', config])).code).toBe(0);

    await writeFile(slow, '');
    const killed = startCli(['run', '-c', config]);
    await until(() => partials().length > 0, 'the run to start its file list');
    process.kill(killed.pid, 'SIGKILL');
    await killed.result;
    expect(partials()).toHaveLength(1);

    await rm(slow);
    const next = await runCli(['run', '-c', config]);
    expect(next.code, next.stderr).toBe(0);
    expect(partials()).toEqual([]);
    expect(entriesOf(lists)).toHaveLength(1);
  });

  it('a restore: exit 130, the target untouched and no temporary folder beside it', async () => {
    const dir = join(work.path, 'restore');
    const source = join(dir, 'source');
    await mkdir(source, { recursive: true });
    // Incompressible, so restoring it takes long enough to be interrupted.
    for (let index = 0; index < 12; index++)
      await writeFile(join(source, `part-${index}.bin`), randomBytes(16 << 20));
    const config = await writeConfig(dir, {
      sources: [{ name: 'data', type: 'directory', path: source }],
      destinations: [{ name: 'disk', type: 'local', path: join(dir, 'disk') }],
    });
    expect((await runCli(['run', '-c', config])).code).toBe(0);
    const parent = join(dir, 'restore-here');
    await mkdir(parent);
    const staging = () => entriesOf(parent).filter((name) => name.startsWith('.restored.restore-'));

    const cli = startCli(['restore', 'latest', '--to', join(parent, 'restored'), '-c', config]);
    await until(() => staging().length > 0, 'the restore to start extracting');
    process.kill(cli.pid, 'SIGINT');
    const result = await cli.result;

    expect(result.code).toBe(130);
    expect(entriesOf(parent)).toEqual([]);
  });
});
