import { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { guardDestination } from '../src/destination/guarded.js';
import { pruneDestination } from '../src/retention/prune.js';
import { listShards } from '../src/shard/catalog.js';
import { shardId } from '../src/shard/naming.js';
import { createMemoryDestination } from './fixtures/plugins/memory-destination.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const HOUR = 3_600_000;
const put = (dest: Destination, key: string, bytes: Buffer | string) =>
  dest.put(key, Readable.from([Buffer.from(bytes)]), { size: Buffer.byteLength(bytes), sha256: '' });

async function writeShard(
  dest: Destination,
  at: Date,
  options: { prefix?: string; instance?: string; sidecar?: boolean } = {},
) {
  const id = shardId(options.prefix ?? 'backup', at);
  const archive = `${id}.tar.zst`;
  await put(dest, archive, 'x'.repeat(100));
  if (options.sidecar === false) return id;
  const manifest = placeholderSidecar(id, at, { instance: options.instance });
  await put(dest, `${id}.manifest.json`, JSON.stringify(manifest));
  return id;
}

const keys = async (dest: Destination) => {
  const all: string[] = [];
  for await (const object of dest.list('')) all.push(object.key);
  return all.sort();
};

describe('pruneDestination', () => {
  it('deletes what the policy says, archive before sidecar, and only this instance and prefix', async () => {
    const dest = guardDestination('mem', createMemoryDestination());
    const deletes: string[] = [];
    const original = dest.delete.bind(dest);
    dest.delete = (key: string) => {
      deletes.push(key);
      return original(key);
    };
    const base = Date.UTC(2026, 10, 23, 12);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await writeShard(dest, new Date(base - i * 24 * HOUR)));
    const foreignHost = await writeShard(dest, new Date(base - 10 * 24 * HOUR), { instance: 'host-b' });
    const foreignPrefix = await writeShard(dest, new Date(base - 11 * 24 * HOUR), { prefix: 'other' });

    const dry = await pruneDestination(
      dest,
      { keep_last: 2 },
      { idPrefix: 'backup', sourceInstance: 'host-a', dryRun: true },
    );
    expect(dry.decisions.map((d) => d.action)).toEqual(['keep', 'keep', 'delete', 'delete', 'delete']);
    expect(dry.foreign).toBe(2);
    expect(deletes).toEqual([]);

    const result = await pruneDestination(
      dest,
      { keep_last: 2 },
      { idPrefix: 'backup', sourceInstance: 'host-a' },
    );
    expect(result.deleted.sort()).toEqual(ids.slice(2).sort());
    for (const id of ids.slice(2)) {
      expect(deletes.indexOf(`${id}.tar.zst`)).toBeLessThan(deletes.indexOf(`${id}.manifest.json`));
    }
    const remaining = (await listShards(dest)).complete.map((m) => m.id).sort();
    expect(remaining).toEqual([...ids.slice(0, 2), foreignHost, foreignPrefix].sort());
    expect(await keys(dest)).toHaveLength(8);
  });

  it('removes incomplete shards older than a day, keeps younger ones and the protected one', async () => {
    const dest = guardDestination('mem', createMemoryDestination());
    const now = new Date();
    const complete = await writeShard(dest, new Date(now.getTime() - HOUR));
    const stale = await writeShard(dest, new Date(now.getTime() - 2 * HOUR), { sidecar: false });
    const result = await pruneDestination(
      dest,
      { keep_last: 5 },
      {
        idPrefix: 'backup',
        sourceInstance: 'host-a',
        now: new Date(now.getTime() + 25 * HOUR),
        protect: [complete],
      },
    );
    expect(result.incomplete.map((s) => [s.id, s.action])).toEqual([[stale, 'delete']]);
    expect(result.deleted).toEqual([stale]);
    expect(await keys(dest)).toEqual([`${complete}.manifest.json`, `${complete}.tar.zst`]);

    const young = await writeShard(dest, new Date(now.getTime() - 3 * HOUR), { sidecar: false });
    const again = await pruneDestination(dest, {}, { idPrefix: 'backup', sourceInstance: 'host-a', now });
    expect(again.incomplete.map((s) => [s.id, s.action])).toEqual([[young, 'keep']]);
    expect(await keys(dest)).toContain(`${young}.tar.zst`);
  });

  it('uses the batch delete when the destination has one, archives in the first batch', async () => {
    const inner = createMemoryDestination();
    const batches: string[][] = [];
    const withBatch = Object.assign(inner, {
      async deleteMany(keysToDelete: readonly string[]) {
        batches.push([...keysToDelete]);
        for (const key of keysToDelete) await inner.delete(key);
        return { failed: [] };
      },
    });
    const dest = guardDestination('mem', withBatch);
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 4; i++) await writeShard(dest, new Date(base + i * HOUR));
    const result = await pruneDestination(
      dest,
      { keep_last: 1 },
      { idPrefix: 'backup', sourceInstance: 'host-a' },
    );
    expect(result.deleted).toHaveLength(3);
    expect(batches).toHaveLength(2);
    expect(batches[0]!.every((key) => key.endsWith('.tar.zst'))).toBe(true);
    expect(batches[1]!.every((key) => key.endsWith('.manifest.json'))).toBe(true);
    expect(await keys(dest)).toHaveLength(2);
  });
});
