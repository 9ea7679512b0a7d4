import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MemoryStore, memoryDestination } from '@matric-backup/destination-testkit';
import type { ObjectInfo } from '@matric-backup/plugin-api';
import { DestinationError } from '@matric-backup/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackup } from '../src/run/run.js';
import { shardId, writerTag } from '../src/shard/naming.js';
import { readRunHistory } from '../src/state/history.js';
import { setupRun, TEST_CONFIG_NAME, TEST_TAG, type TestSetup } from './fixtures/run/config.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const NOW = new Date('2026-01-17T02:00:00.000Z');
const ID = `backup_20260117_020000_${TEST_TAG}`;
const DAY = 86_400_000;

let setup: TestSetup | undefined;
afterEach(() => setup?.cleanup());

async function prepare(destinations = [{ name: 'one' }, { name: 'two' }]) {
  setup = await setupRun({
    sources: (dir) => [{ name: 'notes', type: 'directory', path: join(dir, 'data') }],
    destinations,
  });
  await mkdir(join(setup.dir, 'data'), { recursive: true });
  await writeFile(join(setup.dir, 'data', 'a.txt'), 'alpha\n');
  return setup;
}

/** An older complete shard, as an earlier run would have left it. */
function seedShard(store: MemoryStore, at: Date, instance = 'test-host'): string {
  const id = shardId('backup', at, writerTag(TEST_CONFIG_NAME, instance));
  const manifest = placeholderSidecar(id, at, {
    instance,
    writer: TEST_CONFIG_NAME,
    objectSize: 10,
    sizeBytes: 6,
    collections: ['notes'],
  });
  store.objects.set(`${id}.tar.zst`, { bytes: Buffer.alloc(10), modified: at });
  store.objects.set(`${id}.manifest.json`, { bytes: Buffer.from(JSON.stringify(manifest)), modified: at });
  return id;
}

describe('after a run', () => {
  it("applies each destination's retention, never to the new shard nor another host's", async () => {
    const { config, store, writes } = await prepare();
    const old = [1, 2, 3].map((days) => seedShard(store('one'), new Date(NOW.getTime() - days * DAY)));
    const foreign = seedShard(store('one'), new Date(NOW.getTime() - 9 * DAY), 'other-host');
    const kept = seedShard(store('two'), new Date(NOW.getTime() - 5 * DAY));
    config.destinations[0]!.retention = { keep_last: 2 };

    const summary = await runBackup(config, { now: NOW });

    expect(summary.status).toBe('success');
    expect(summary.destinations[0]!.prune).toEqual({ deleted: [old[1], old[2]], failed: [] });
    // The seeded shards are from before index objects; the new one has its index.
    expect(store('one').keys()).toEqual(
      [
        `${ID}.index.json.zst`,
        ...[ID, old[0], foreign].flatMap((id) => [`${id}.manifest.json`, `${id}.tar.zst`]),
      ].sort(),
    );
    // Each shard's archive goes before its sidecar (shards are deleted in parallel).
    const deletes = writes('one').filter((call) => call.startsWith('delete'));
    expect(deletes).toHaveLength(4);
    for (const id of [old[1], old[2]]) {
      expect(deletes.indexOf(`delete ${id}.tar.zst`)).toBeLessThan(
        deletes.indexOf(`delete ${id}.manifest.json`),
      );
      expect(deletes.indexOf(`delete ${id}.tar.zst`)).toBeGreaterThanOrEqual(0);
    }
    // No policy: everything stays.
    expect(summary.destinations[1]!.prune).toEqual({ deleted: [], failed: [] });
    expect(store('two').keys()).toContain(`${kept}.tar.zst`);
  });

  it('a destination that cannot be pruned is a warning, not a failed run', async () => {
    const { config, store } = await prepare([{ name: 'one' }]);
    seedShard(store('one'), new Date(NOW.getTime() - DAY));
    config.destinations[0]!.retention = { keep_last: 1 };
    const destination = config.destinations[0]!;
    destination.plugin = {
      ...destination.plugin,
      create: () => ({ ...memoryDestination(store('one')), list: refusingList }),
    };

    const summary = await runBackup(config, { now: NOW });

    expect(summary).toMatchObject({ status: 'success' });
    expect(summary.destinations[0]!.prune).toEqual({
      deleted: [],
      failed: [],
      error: { code: 'UNREACHABLE', message: expect.stringContaining('listing refused') },
    });
    expect(summary.warnings).toEqual([
      {
        code: 'RETENTION_FAILED',
        message: expect.stringMatching(/^retention on one failed .*listing refused/),
        destination: 'one',
      },
    ]);
  });

  it('prune: false leaves every old shard alone', async () => {
    const { config, store } = await prepare([{ name: 'one' }]);
    const old = seedShard(store('one'), new Date(NOW.getTime() - DAY));
    config.destinations[0]!.retention = { keep_last: 1 };
    const summary = await runBackup(config, { now: NOW, prune: false });
    expect(summary.destinations[0]!.prune).toBeUndefined();
    expect(store('one').keys()).toContain(`${old}.manifest.json`);
  });

  it('records every run, failed ones too; the audit line is left to the caller', async () => {
    const { config, store } = await prepare();
    store('two').failPut = () => new DestinationError('NO_SPACE', 'disk full', { retryable: false });
    const summary = await runBackup(config, { now: NOW });
    expect(summary.status).toBe('partial');

    const [record] = await readRunHistory(config.backup.state_dir);
    expect(record).toMatchObject({
      id: ID,
      config: config.file,
      started_at: NOW.toISOString(),
      status: 'partial',
      bytes: summary.archive!.size,
      destinations: [
        { name: 'one', status: 'success', attempts: 1 },
        { name: 'two', status: 'failed', attempts: 1, error: { code: 'NO_SPACE', message: 'disk full' } },
      ],
    });
    // The audit line is the CLI's (test/lifecycle-monitoring.test.ts).
    await expect(stat(join(config.backup.state_dir, 'audit.log'))).rejects.toThrow();
  });

  it('a state folder that cannot be written is a warning; the backup still counts', async () => {
    const { config, dir } = await prepare([{ name: 'one' }]);
    await writeFile(join(dir, 'blocker'), '');
    const summary = await runBackup(config, {
      now: NOW,
      metricsFile: join(dir, 'blocker', 'matric.prom'),
    });
    expect(summary.status).toBe('success');
    expect(summary.warnings).toEqual([
      { code: 'METRICS_WRITE_FAILED', message: expect.stringContaining('could not write the metrics file') },
    ]);
  });

  it('a dry run records nothing', async () => {
    const { config } = await prepare([{ name: 'one' }]);
    await runBackup(config, { now: NOW, dryRun: true });
    expect(await readRunHistory(config.backup.state_dir)).toEqual([]);
  });
});

// biome-ignore lint/correctness/useYield: a listing that fails before its first object
async function* refusingList(): AsyncIterable<ObjectInfo> {
  throw new DestinationError('UNREACHABLE', 'listing refused', { retryable: true });
}
