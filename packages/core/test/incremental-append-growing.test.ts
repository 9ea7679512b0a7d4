import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { restoreShard } from '../src/restore/restore.js';
import { runBackup } from '../src/run/run.js';
import { findShard } from '../src/shard/catalog.js';
import { resolveChain } from '../src/shard/chain.js';
import { readInnerManifest } from '../src/shard/inner-manifest.js';
import { snapshot } from './fixtures/restore/snapshot.js';
import { setupRun, type TestSetup } from './fixtures/run/config.js';

/** Bytes a writer appends to `grow.file` while the packer reads it from `grow.at` on. */
const grow: { file?: string; at?: number; bytes?: Buffer } = {};
vi.mock('../src/archive/read-file.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/archive/read-file.js')>();
  return {
    ...original,
    readExactly: (fd: number, buffer: Buffer, position: number) => {
      if (grow.file !== undefined && position === grow.at) {
        appendFileSync(grow.file, grow.bytes!);
        grow.file = undefined;
      }
      return original.readExactly(fd, buffer, position);
    },
  };
});

describe('a log written to while an incremental run reads it', () => {
  let made: TestSetup | undefined;
  afterEach(async () => {
    await made?.cleanup();
    made = undefined;
  });

  /** A folder holding one log of 256 KiB, backed up incrementally. */
  async function start() {
    const setup = await setupRun({
      sources: (dir) => [{ name: 'data', type: 'directory', path: join(dir, 'data') }],
      backup: { incremental: {} },
    });
    made = setup;
    const data = join(setup.dir, 'data');
    const log = join(data, 'log');
    await mkdir(data);
    const old = randomBytes(256 * 1024);
    await writeFile(log, old);
    return { setup, data, log, old };
  }

  it('is stored as the bytes it gained up to after the old ones were hashed, without a warning, and grows on by appends', async () => {
    const { setup, data, log, old } = await start();
    const trees: Array<Record<string, string>> = [];
    const run = async (day: number) => {
      const result = await runBackup(setup.config, { now: new Date(Date.UTC(2026, 0, day, 2)) });
      trees.push(await snapshot(data));
      return result;
    };
    expect((await run(17)).status).toBe('success');

    await appendFile(log, randomBytes(3000));
    // The first read of the run is the log's old bytes, hashed before its new ones are copied.
    grow.file = log;
    grow.at = 0;
    grow.bytes = randomBytes(7000);
    const second = await run(18);
    expect(grow.file).toBeUndefined();
    expect(second.status, JSON.stringify(second.warnings ?? [])).toBe('success');

    await appendFile(log, randomBytes(1000));
    const third = await run(19);
    expect(third.status).toBe('success');

    const from = memoryDestination(setup.store('primary'));
    const manifests = await Promise.all([second.id!, third.id!].map((id) => findShard(from, id)));
    const entry = async (index: number) =>
      (await readInnerManifest(from, manifests[index]!)).entries.find((e) => e.path === 'data/log');
    // All the log had gained once its old bytes were hashed (3000 + 7000), stored as appended bytes;
    // the next run's 1000 bytes are appended to that, not the log stored whole.
    expect(await entry(0)).toMatchObject({ size: old.length + 10_000, append: { from: old.length } });
    expect(manifests[0]!.size_bytes).toBe(10_000);
    expect(await entry(1)).toMatchObject({ append: { from: old.length + 10_000 } });
    expect(manifests[1]!.size_bytes).toBe(1000);
    for (const [index, manifest] of manifests.entries()) {
      const to = join(setup.dir, `restored-${index}`);
      await restoreShard({ from, manifest: manifest!, chain: await resolveChain(from, manifest!), to });
      expect(await snapshot(join(to, 'data')), `run ${index + 2}`).toEqual(trees[index + 1]);
    }
  });

  it('is stored up to the size it had when the copy began if it grows during the copy, with a warning, and the next run appends to that', async () => {
    const { setup, data, log, old } = await start();
    const run = (day: number) => runBackup(setup.config, { now: new Date(Date.UTC(2026, 0, day, 2)) });
    expect((await run(17)).status).toBe('success');

    await appendFile(log, randomBytes(3000));
    // The read of the new bytes, after the old ones were hashed and the size taken again.
    grow.file = log;
    grow.at = old.length;
    grow.bytes = randomBytes(7000);
    const second = await run(18);
    expect(grow.file).toBeUndefined();
    expect(second.status).toBe('warning');
    expect(second.warnings).toMatchObject([{ code: 'FILE_CHANGED', path: 'data/log' }]);

    await appendFile(log, randomBytes(1000));
    const third = await run(19);
    expect(third.status).toBe('success');
    const from = memoryDestination(setup.store('primary'));
    const [secondShard, thirdShard] = await Promise.all(
      [second.id!, third.id!].map((id) => findShard(from, id)),
    );
    expect(secondShard!.size_bytes).toBe(3000);
    // What the second shard did not hold, and what came after: appended to the 3000 bytes stored.
    const entry = (await readInnerManifest(from, thirdShard!)).entries.find((e) => e.path === 'data/log');
    expect(entry).toMatchObject({ append: { from: old.length + 3000 } });
    expect(thirdShard!.size_bytes).toBe(8000);
    const to = join(setup.dir, 'restored');
    await restoreShard({ from, manifest: thirdShard!, chain: await resolveChain(from, thirdShard!), to });
    expect(await snapshot(join(to, 'data'))).toEqual(await snapshot(data));
  });
});
