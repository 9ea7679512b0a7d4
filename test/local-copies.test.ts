import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canMount, withLoopDisk } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { expectRestored, expectVerified, type RunJson, runToAll } from './helpers/fan-out.js';
import { sha256File } from './helpers/tree.js';

let work: Awaited<ReturnType<typeof tempDir>>;
let data: string;
let n = 0;

beforeAll(async () => {
  work = await tempDir('mb-e2e-local-copies-');
  data = join(work.path, 'data');
  await mkdir(join(data, 'sub'), { recursive: true });
  // Incompressible, so the shard spans several of the spool's 4 MiB writes and ends in a partial one.
  await writeFile(join(data, 'random.bin'), randomBytes(9 * 1024 * 1024 + 4321));
  await writeFile(join(data, 'sub', 'notes.txt'), 'kept three times\n');
});
afterAll(async () => {
  await work?.cleanup();
});

async function freshDir(): Promise<string> {
  const dir = join(work.path, `case-${++n}`);
  await mkdir(dir);
  return dir;
}

/** Three local destinations in `root` and the spool folder beside them; the state stays in `dir`. */
function threeLocal(dir: string, root: string): Promise<string> {
  return writeConfig(dir, {
    spool_dir: join(root, 'spool'),
    sources: [{ name: 'data', type: 'directory', path: data }],
    destinations: NAMES.map((name) => ({ name, type: 'local', path: join(root, name) })),
    retry: { max_retries: 0 },
  });
}

const NAMES = ['one', 'two', 'three'];

describe('local destinations on the spool folder disk', () => {
  it('each keeps a file of its own (no shared inode), whole, and the spool folder is left empty', async () => {
    const dir = await freshDir();
    const config = await threeLocal(dir, dir);
    const summary = await runToAll(config, NAMES);
    const objects = await Promise.all(NAMES.map((name) => stat(join(dir, name, summary.archive.key))));
    expect(objects.map((object) => object.nlink)).toEqual([1, 1, 1]);
    expect(new Set(objects.map((object) => object.ino)).size).toBe(3);
    for (const name of NAMES)
      expect(await sha256File(join(dir, name, summary.archive.key)), name).toBe(summary.archive.sha256);
    expect(await readdir(join(dir, 'spool'))).toEqual([]);
    await expectVerified(config, summary.id, 'three');
    await expectRestored(config, 'three', join(dir, 'restored'), data);
  });

  it.runIf(canMount)(
    'links: a disk with room for the three shards, not for three copies beside the spool files, takes them all',
    async () => {
      const dir = await freshDir();
      // 48 MiB: three 9.4 MB shards and the room kept free beside them, not six shards.
      await withLoopDisk(dir, 48, async (disk) => {
        const summary = await runToAll(await threeLocal(dir, disk), NAMES);
        for (const name of NAMES)
          expect(await sha256File(join(disk, name, summary.archive.key)), name).toBe(summary.archive.sha256);
        expect(await readdir(join(disk, 'spool'))).toEqual([]);
      });
    },
  );

  it.runIf(canMount)(
    'a disk that fills up: the first destination still gets the shard, the others fail with NO_SPACE (exit 3)',
    async () => {
      const dir = await freshDir();
      await withLoopDisk(dir, 24, async (disk) => {
        const run = await runCli(['run', '-c', await threeLocal(dir, disk), '--json']);
        expect(run.code, run.stderr).toBe(3);
        const summary = JSON.parse(run.stdout) as Omit<RunJson, 'destinations'> & {
          destinations: Array<{ name: string; status: string; error?: { code: string } }>;
        };
        expect(summary.destinations[0]).toMatchObject({ name: 'one', status: 'success' });
        for (const destination of summary.destinations) {
          const stored = await readdir(join(disk, destination.name)).catch(() => []);
          if (destination.status === 'success')
            expect(await sha256File(join(disk, destination.name, summary.archive.key))).toBe(
              summary.archive.sha256,
            );
          else expect([destination.error?.code, stored]).toEqual(['NO_SPACE', []]);
        }
        expect(await readdir(join(disk, 'spool'))).toEqual([]);
      });
    },
  );
});
