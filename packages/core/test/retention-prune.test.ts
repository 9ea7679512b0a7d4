import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { memoryDestination } from '@matric-backup/destination-testkit';
import type { Destination } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { guardDestination } from '../src/destination/guarded.js';
import type { ShardOwner } from '../src/retention/ownership.js';
import { pruneDestination } from '../src/retention/prune.js';
import { listShards } from '../src/shard/catalog.js';
import { shardId, writerTag } from '../src/shard/naming.js';
import { emptyWriterRecords } from '../src/state/writer-records.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const HOUR = 3_600_000;
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const put = (dest: Destination, key: string, bytes: Buffer | string) =>
  dest.put(key, Readable.from([Buffer.from(bytes)]), {
    size: Buffer.byteLength(bytes),
    sha256: sha256(bytes),
  });

/** Config `a` on host-a, with what its state folder recorded. */
function ownerA(records = emptyWriterRecords()): ShardOwner {
  return { name: 'a', tag: writerTag('a', 'host-a'), idPrefix: 'backup', sourceInstance: 'host-a', records };
}

/**
 * A shard as config `writer` on `instance` writes it; `writer: null` is one from
 * before sidecars named their config (an id without a tag).
 */
async function writeShard(
  dest: Destination,
  at: Date,
  options: { writer?: string | null; instance?: string; sidecar?: 'none' | 'truncated'; size?: number } = {},
) {
  const { writer = 'a', instance = 'host-a', size = 100 } = options;
  const id = shardId('backup', at, writer === null ? undefined : writerTag(writer, instance));
  await put(dest, `${id}.tar.zst`, 'x'.repeat(size));
  if (options.sidecar === 'none') return id;
  const text = JSON.stringify(
    placeholderSidecar(id, at, { instance, objectSize: size, ...(writer === null ? {} : { writer }) }),
  );
  await put(dest, `${id}.manifest.json`, options.sidecar === 'truncated' ? text.slice(0, 100) : text);
  return id;
}

const keys = async (dest: Destination) => {
  const all: string[] = [];
  for await (const object of dest.list('')) all.push(object.key);
  return all.sort();
};

describe('pruneDestination', () => {
  it("deletes what the policy says among this config's shards only, archive before sidecar", async () => {
    // Without a batch delete, so each delete is seen on its own (the batch has its own test below).
    const { deleteMany: _batch, ...single } = memoryDestination();
    const dest = guardDestination('mem', single);
    const deletes: string[] = [];
    const original = dest.delete.bind(dest);
    dest.delete = (key: string) => {
      deletes.push(key);
      return original(key);
    };
    const base = Date.UTC(2026, 10, 23, 12);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await writeShard(dest, new Date(base - i * 24 * HOUR)));
    // Same host and prefix, another config; the same name on another host; both older than every own shard.
    const otherConfig = await writeShard(dest, new Date(base - 10 * 24 * HOUR), { writer: 'b' });
    const otherHost = await writeShard(dest, new Date(base - 11 * 24 * HOUR), { instance: 'host-b' });

    const dry = await pruneDestination(dest, { keep_last: 2 }, { ...ownerA(), dryRun: true });
    expect(dry.decisions.map((d) => d.action)).toEqual(['keep', 'keep', 'delete', 'delete', 'delete']);
    expect(dry.foreign).toBe(2);
    expect(deletes).toEqual([]);

    const result = await pruneDestination(dest, { keep_last: 2 }, ownerA());
    expect(result.deleted.sort()).toEqual(ids.slice(2).sort());
    for (const id of ids.slice(2)) {
      expect(deletes.indexOf(`${id}.tar.zst`)).toBeLessThan(deletes.indexOf(`${id}.manifest.json`));
    }
    const remaining = (await listShards(dest)).complete.map((m) => m.id).sort();
    expect(remaining).toEqual([...ids.slice(0, 2), otherConfig, otherHost].sort());
  });

  it('counts a legacy shard as its own only when its run history recorded that id with that size', async () => {
    const dest = guardDestination('mem', memoryDestination());
    const base = Date.UTC(2026, 0, 10);
    const recorded = await writeShard(dest, new Date(base - 3 * HOUR), { writer: null, size: 120 });
    const sizeDiffers = await writeShard(dest, new Date(base - 4 * HOUR), { writer: null, size: 130 });
    const unknown = await writeShard(dest, new Date(base - 5 * HOUR), { writer: null });
    const records = emptyWriterRecords();
    records.stored.set(recorded, 120);
    records.stored.set(sizeDiffers, 999); // another config's archive took that id's place
    await writeShard(dest, new Date(base), {});

    const result = await pruneDestination(dest, { keep_last: 1 }, ownerA(records));
    expect(result.deleted).toEqual([recorded]);
    expect(result.legacy.map((shard) => shard.id).sort()).toEqual([sizeDiffers, unknown].sort());
    expect(await keys(dest)).toContain(`${sizeDiffers}.tar.zst`);
    expect(await keys(dest)).toContain(`${unknown}.tar.zst`);
  });

  it('removes an archive without a usable sidecar only when this config recorded that its run failed', async () => {
    const dest = guardDestination('mem', memoryDestination());
    const now = Date.UTC(2026, 0, 10);
    const failedHere = await writeShard(dest, new Date(now - HOUR), { sidecar: 'none' });
    const killed = await writeShard(dest, new Date(now - 2 * HOUR), { sidecar: 'none' });
    const noRecord = await writeShard(dest, new Date(now - 3 * HOUR), { sidecar: 'none' });
    const damaged = await writeShard(dest, new Date(now - 4 * HOUR), { sidecar: 'truncated' });
    const failedElsewhere = await writeShard(dest, new Date(now - 5 * HOUR), { sidecar: 'none' });
    const legacy = await writeShard(dest, new Date(now - 6 * HOUR), { writer: null, sidecar: 'none' });
    const otherConfig = await writeShard(dest, new Date(now - 7 * HOUR), { writer: 'b', sidecar: 'none' });
    const records = emptyWriterRecords();
    records.failed.set(failedHere, new Set(['mem']));
    records.failed.set(failedElsewhere, new Set(['other-destination']));
    records.failed.set(legacy, new Set(['mem']));
    records.abandoned.add(killed);

    const result = await pruneDestination(dest, {}, { ...ownerA(records), destination: 'mem' });
    const actions = Object.fromEntries(result.incomplete.map((shard) => [shard.id, shard.action]));
    expect(actions).toEqual({
      [failedHere]: 'delete',
      [killed]: 'delete',
      [noRecord]: 'keep',
      [damaged]: 'keep',
      [failedElsewhere]: 'keep',
      [legacy]: 'keep',
    });
    expect(result.incomplete.find((shard) => shard.id === damaged)!.reason).toMatch(/unreadable sidecar/);
    expect(result.deleted.sort()).toEqual([failedHere, killed].sort());
    const left = await keys(dest);
    for (const id of [noRecord, damaged, failedElsewhere, legacy, otherConfig]) {
      expect(left).toContain(`${id}.tar.zst`);
    }
    // Without the destination's name no run record can vouch for anything.
    const unnamed = await pruneDestination(dest, {}, ownerA(records));
    expect(unnamed.incomplete.every((shard) => shard.action === 'keep')).toBe(true);
  });

  it('keeps shards dated in the future without letting them take a keep_last slot', async () => {
    const dest = guardDestination('mem', memoryDestination());
    const now = new Date(Date.UTC(2026, 0, 10));
    const future = await writeShard(dest, new Date(now.getTime() + 4 * 365 * 24 * HOUR));
    const recent = await writeShard(dest, new Date(now.getTime() - HOUR));
    const older = await writeShard(dest, new Date(now.getTime() - 2 * HOUR));

    const result = await pruneDestination(dest, { keep_last: 1 }, { ...ownerA(), now });
    expect(result.future).toEqual([future]);
    expect(result.decisions.map((d) => [d.id, d.action, d.reasons[0]])).toEqual([
      [future, 'keep', 'dated in the future'],
      [recent, 'keep', 'last 1'],
      [older, 'delete', undefined],
    ]);
    expect(result.deleted).toEqual([older]);
  });

  it('uses the batch delete when the destination has one, archives in the first batch', async () => {
    const inner = memoryDestination();
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
    const result = await pruneDestination(dest, { keep_last: 1 }, ownerA());
    expect(result.deleted).toHaveLength(3);
    expect(batches).toHaveLength(2);
    expect(batches[0]!.every((key) => key.endsWith('.tar.zst'))).toBe(true);
    expect(batches[1]!.every((key) => key.endsWith('.manifest.json'))).toBe(true);
    expect(await keys(dest)).toHaveLength(2);
  });

  it("removes day-old leftovers of this config's killed uploads through deleteTemporary when the store has one", async () => {
    const inner = memoryDestination();
    const now = new Date(Date.UTC(2026, 0, 10));
    const old = new Date(now.getTime() - 25 * HOUR);
    const young = new Date(now.getTime() - HOUR);
    const own = (day: string) =>
      `${shardId('backup', new Date(`2026-01-0${day}T00:00:00Z`), writerTag('a', 'host-a'))}.tar.zst`;
    const theirs = `${shardId('backup', new Date('2026-01-03T00:00:00Z'), writerTag('b', 'host-a'))}.tar.zst`;
    // An object store's leftovers: no key of their own, an upload id instead.
    const uploads = [
      { name: 'upload-1', key: own('1'), size: 10, modified: old },
      { name: 'upload-2', key: own('2'), size: 10, modified: young },
      { name: 'upload-3', key: theirs, size: 10, modified: old },
    ];
    const aborted: string[] = [];
    const dest = guardDestination(
      'mem',
      Object.assign(inner, {
        async *listTemporary() {
          yield* uploads;
        },
        async deleteTemporary(temporary: { name: string }) {
          aborted.push(temporary.name);
        },
      }),
    );
    const dry = await pruneDestination(dest, {}, { ...ownerA(), now, dryRun: true });
    expect(dry.leftovers.map((leftover) => [leftover.name, leftover.action])).toEqual([
      ['upload-1', 'delete'],
      ['upload-2', 'keep'],
    ]);
    expect(aborted).toEqual([]);
    const result = await pruneDestination(dest, {}, { ...ownerA(), now });
    expect(result.failed).toEqual([]);
    expect(aborted).toEqual(['upload-1']);
  });

  it('keeps chains whole, and deletes a chain newest link first, keeping a parent whose incremental failed to go', async () => {
    const { deleteMany: _batch, ...single } = memoryDestination();
    const dest = guardDestination('mem', single);
    const day = (n: number) => new Date(Date.UTC(2026, 10, 10 + n, 12));
    const tag = writerTag('a', 'host-a');
    const write = async (n: number, parent?: { id: string; base: string; length: number }) => {
      const id = shardId('backup', day(n), tag);
      await put(dest, `${id}.tar.zst`, 'x'.repeat(100));
      const incremental = parent && { parent: parent.id, base: parent.base, chain_length: parent.length };
      await put(
        dest,
        `${id}.manifest.json`,
        JSON.stringify(placeholderSidecar(id, day(n), { writer: 'a', incremental })),
      );
      return id;
    };
    const oldBase = await write(0);
    const oldInc1 = await write(1, { id: oldBase, base: oldBase, length: 1 });
    const oldInc2 = await write(2, { id: oldInc1, base: oldBase, length: 2 });
    const base = await write(3);
    const inc1 = await write(4, { id: base, base, length: 1 });
    const inc2 = await write(5, { id: inc1, base, length: 2 });

    const dry = await pruneDestination(dest, { keep_last: 1 }, { ...ownerA(), dryRun: true });
    expect(dry.decisions.map((d) => [d.id, d.action, d.reasons])).toEqual([
      [inc2, 'keep', ['last 1']],
      [inc1, 'keep', [`parent of ${inc2}`]],
      [base, 'keep', [`base of ${inc2}`]],
      [oldInc2, 'delete', []],
      [oldInc1, 'delete', []],
      [oldBase, 'delete', []],
    ]);

    // The old chain's newest link cannot be deleted: its parent and base stay, so nothing is left orphaned.
    const deletes: string[] = [];
    const original = dest.delete.bind(dest);
    dest.delete = async (key: string) => {
      deletes.push(key);
      if (key === `${oldInc2}.tar.zst`) throw new Error('the disk said no');
      return original(key);
    };
    const result = await pruneDestination(dest, { keep_last: 1 }, ownerA());
    expect(result.deleted).toEqual([]);
    expect(result.failed.map((failure) => failure.id).sort()).toEqual([oldBase, oldInc1, oldInc2].sort());
    expect(deletes).toEqual([`${oldInc2}.tar.zst`]);

    dest.delete = async (key: string) => {
      deletes.push(key);
      return original(key);
    };
    deletes.length = 0;
    const again = await pruneDestination(dest, { keep_last: 1 }, ownerA());
    expect(again.deleted).toEqual([oldInc2, oldInc1, oldBase]);
    expect(deletes.map((key) => key.split('.')[0])).toEqual([
      oldInc2,
      oldInc2,
      oldInc1,
      oldInc1,
      oldBase,
      oldBase,
    ]);
    expect((await listShards(dest)).complete.map((m) => m.id)).toEqual([inc2, inc1, base]);
  });
});
