import { existsSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';
import { diffTrees } from './helpers/tree.js';

const STACK_LINE = /^\s+at /m;

describe('failures', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let data: string;
  /** A regular file: any destination path below it fails with ENOTDIR, even for root. */
  let aFile: string;
  let n = 0;
  const fresh = () => join(work.path, `case-${++n}`);

  beforeAll(async () => {
    work = await tempDir();
    data = join(work.path, 'data');
    await mkdir(join(data, 'sub'), { recursive: true });
    await writeFile(join(data, 'a.txt'), 'alpha\n');
    await writeFile(join(data, 'sub/b.txt'), 'beta\n'.repeat(1000));
    aFile = join(work.path, 'afile');
    await writeFile(aFile, 'not a folder\n');
  });
  afterAll(() => work.cleanup());

  const directorySource = () => ({ name: 'data', type: 'directory' as const, path: data });

  it('an unwritable optional destination: exit 0 with a warning, the shard is on the other', async () => {
    const dir = fresh();
    await mkdir(dir);
    const good = join(dir, 'good');
    const config = await writeConfig(dir, {
      sources: [directorySource()],
      destinations: [
        { name: 'good', type: 'local', path: good },
        { name: 'broken', type: 'local', path: join(aFile, 'sub'), required: false },
      ],
      retry: { max_retries: 0 },
    });
    const run = await runCli(['run', '-c', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: .*broken/m);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.stdout).toMatch(/FAILED\s+broken \(optional\)/);

    const verify = await runCli(['verify', '--latest', '-d', 'good', '-c', config]);
    expect(verify.code).toBe(0);
  });

  it('an unwritable required destination: exit 3, and the other destination has a complete shard', async () => {
    const dir = fresh();
    await mkdir(dir);
    const good = join(dir, 'good');
    const config = await writeConfig(dir, {
      sources: [directorySource()],
      destinations: [
        { name: 'good', type: 'local', path: good },
        { name: 'broken', type: 'local', path: join(aFile, 'sub') },
      ],
      retry: { max_retries: 1, initial_delay: '10ms' },
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(3);
    const summary = JSON.parse(run.stdout);
    expect(summary.status).toBe('partial');
    const byName = Object.fromEntries(summary.destinations.map((d: { name: string }) => [d.name, d]));
    expect(byName.good.status).toBe('success');
    expect(byName.broken.status).toBe('failed');
    expect(byName.broken.error.code).toBeTruthy();
    expect(byName.broken.error.message).toBeTruthy();

    const files = await filesUnder(good);
    expect(files).toEqual([
      `${summary.id}.index.json.zst`,
      `${summary.id}.manifest.json`,
      `${summary.id}.tar.zst`,
    ]);
    const verify = await runCli(['verify', summary.id, '-d', 'good', '-c', config]);
    expect(verify.code).toBe(0);
  });

  it('a failing source command: exit 1 and no shard on any destination', async () => {
    const dir = fresh();
    await mkdir(dir);
    const config = await writeConfig(dir, {
      sources: [
        directorySource(),
        {
          name: 'dump',
          type: 'command',
          command: ['sh', '-c', 'echo partial output; echo dump failed >&2; exit 3'],
          filename: 'dump.sql',
        },
      ],
      destinations: [
        { name: 'one', type: 'local', path: join(dir, 'one') },
        { name: 'two', type: 'local', path: join(dir, 'two') },
      ],
    });
    const run = await runCli(['run', '-c', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*dump/m);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(await filesUnder(join(dir, 'one'))).toEqual([]);
    expect(await filesUnder(join(dir, 'two'))).toEqual([]);
    const list = await runCli(['list', '-c', config, '--json']);
    expect(list.code).toBe(0);
    for (const destination of JSON.parse(list.stdout).destinations) {
      expect(destination.complete).toEqual([]);
      expect(destination.incomplete).toEqual([]);
    }
  });

  it('a second run of the same config while one holds the lock exits 4 naming the holder pid', async () => {
    const dir = fresh();
    await mkdir(dir);
    const started = join(dir, 'source-started');
    const release = join(dir, 'release');
    // The source announces it runs (so the lock is held) and holds the run until the test releases it
    // (at most ~30 s, so a failing test cannot leave it hanging).
    const script = `touch '${started}'; i=0; while [ ! -e '${release}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; echo done`;
    const config = await writeConfig(dir, {
      sources: [{ name: 'slow', type: 'command', command: ['sh', '-c', script], filename: 'slow.txt' }],
      destinations: [{ name: 'one', type: 'local', path: join(dir, 'one') }],
    });
    const first = startCli(['run', '-c', config]);
    const deadline = Date.now() + 30_000;
    while (!existsSync(started) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(started)).toBe(true);

    const second = await runCli(['run', '-c', config, '--json']);
    await writeFile(release, '');
    expect(second.code).toBe(4);
    expect(JSON.parse(second.stdout)).toMatchObject({
      schema_version: 1,
      ok: false,
      exit_code: 4,
      errors: [{ code: 'LOCKED' }],
    });
    expect(second.stderr).toMatch(/^error: /);
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).not.toMatch(STACK_LINE);

    const firstResult = await first.result;
    expect(firstResult.code).toBe(0);
    // Once the first run is over, the lock is free again.
    const third = await runCli(['run', '-c', config]);
    expect(third.code).toBe(0);
  });

  it('one flipped byte in a stored shard: verify exits 1 naming the destination and the shard', async () => {
    const dir = fresh();
    await mkdir(dir);
    const config = await writeConfig(dir, {
      sources: [directorySource()],
      destinations: [
        { name: 'intact', type: 'local', path: join(dir, 'intact') },
        { name: 'damaged', type: 'local', path: join(dir, 'damaged') },
      ],
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(0);
    const { id, archive } = JSON.parse(run.stdout);

    const handle = await open(join(dir, 'damaged', archive.key), 'r+');
    try {
      const at = Math.floor(archive.size / 2);
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at);
      byte[0] = byte[0]! ^ 0x01;
      await handle.write(byte, 0, 1, at);
    } finally {
      await handle.close();
    }

    const verify = await runCli(['verify', id, '-c', config]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(new RegExp(`^error: .*destination "damaged".*${id}`, 'm'));
    expect(verify.stderr).not.toMatch(/destination "intact"/);
    expect(verify.stdout).toMatch(new RegExp(`ok\\s+intact\\s+${id}`));
    expect(verify.stderr).not.toMatch(STACK_LINE);

    expect((await runCli(['verify', '--all', '-d', 'intact', '-c', config])).code).toBe(0);

    // A damaged copy is never restored silently...
    const fromDamaged = await runCli([
      'restore',
      id,
      '--to',
      join(dir, 'from-damaged'),
      '-d',
      'damaged',
      '-c',
      config,
    ]);
    expect(fromDamaged.code).toBe(1);
    expect(fromDamaged.stderr).not.toMatch(STACK_LINE);
    expect(await filesUnder(join(dir, 'from-damaged'))).toEqual([]);

    // ...and without -d, restore falls back to the next destination that has a good copy.
    const reversed = await writeConfig(
      dir,
      {
        sources: [directorySource()],
        destinations: [
          { name: 'damaged', type: 'local', path: join(dir, 'damaged') },
          { name: 'intact', type: 'local', path: join(dir, 'intact') },
        ],
      },
      'reversed.yaml',
    );
    const target = join(dir, 'restored');
    const restore = await runCli(['restore', id, '--to', target, '-c', reversed]);
    expect(restore.code).toBe(0);
    expect(restore.stderr).toMatch(/^warning: destination "damaged"/m);
    expect(restore.stdout).toContain('destination "intact"');
    expect(await diffTrees(data, join(target, 'data'))).toEqual([]);
  });
});
