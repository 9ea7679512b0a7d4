import { Readable } from 'node:stream';
import { memoryDestination } from '@matric-backup/destination-testkit';
import type { Destination } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { shardObjects } from '../src/retention/shard-objects.js';
import { shardId, writerTag } from '../src/shard/naming.js';
import { destinationStatus } from '../src/status/destination-status.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const put = (dest: Destination, key: string, text: string) =>
  dest.put(key, Readable.from([Buffer.from(text)]), { size: Buffer.byteLength(text), sha256: '' });

async function writeShard(dest: Destination, at: Date, instance = 'host-a', writer = 'a') {
  const id = shardId('backup', at, writerTag(writer, instance));
  await put(dest, `${id}.tar.zst`, 'x'.repeat(100));
  const manifest = placeholderSidecar(id, at, { instance, writer });
  await put(dest, `${id}.manifest.json`, JSON.stringify(manifest));
  return id;
}

const owner = { name: 'a', tag: writerTag('a', 'host-a'), idPrefix: 'backup', sourceInstance: 'host-a' };
const NOW = new Date('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;

describe('destinationStatus', () => {
  it("reports this config's newest shard, its age, count and bytes; others' newer shards do not count", async () => {
    const dest = memoryDestination();
    await writeShard(dest, new Date(NOW.getTime() - 30 * HOUR));
    const newest = await writeShard(dest, new Date(NOW.getTime() - 2 * HOUR));
    await writeShard(dest, new Date(NOW.getTime() - HOUR), 'host-b');
    await writeShard(dest, new Date(NOW.getTime() - HOUR), 'host-a', 'b');
    const partial = shardId('backup', new Date(NOW.getTime() - 3 * HOUR), owner.tag);
    await put(dest, `${partial}.tar.zst`, 'partial');
    await put(
      dest,
      `${shardId('backup', NOW, writerTag('b', 'host-a'))}.tar.zst`,
      "another config's partial",
    );

    expect(await destinationStatus(dest, owner, NOW)).toEqual({
      newest: {
        id: newest,
        created_at: new Date(NOW.getTime() - 2 * HOUR).toISOString(),
        type: 'full',
        size: 100,
      },
      ageMs: 2 * HOUR,
      count: 2,
      bytes: 200,
      future: [],
      incomplete: [{ id: partial, reason: 'no sidecar manifest' }],
      legacy: 0,
      foreign: 2,
    });
  });

  it('a shard dated in the future is reported and never counts as the newest', async () => {
    const dest = memoryDestination();
    const current = await writeShard(dest, new Date(NOW.getTime() - 40 * HOUR));
    const ahead = new Date(NOW.getTime() + 24 * 365 * HOUR);
    const future = await writeShard(dest, ahead);
    const status = await destinationStatus(dest, owner, NOW);
    expect(status.newest?.id).toBe(current);
    expect(status.ageMs).toBe(40 * HOUR);
    expect(status.future).toEqual([{ id: future, created_at: ahead.toISOString() }]);
  });

  it('an empty destination has no newest shard and no age', async () => {
    expect(await destinationStatus(memoryDestination(), owner, NOW)).toEqual({
      count: 0,
      bytes: 0,
      future: [],
      incomplete: [],
      legacy: 0,
      foreign: 0,
    });
  });
});

describe('shardObjects', () => {
  it("lists one shard's objects, archive first and sidecar last, and nothing of a neighbour", async () => {
    const dest = memoryDestination();
    const id = await writeShard(dest, NOW);
    await put(dest, `${id}_2.tar.zst`, 'same second, next shard');
    await put(dest, `nested/${id}.tar.zst`, 'not at the root');
    expect((await shardObjects(dest, id)).map((object) => object.key)).toEqual([
      `${id}.tar.zst`,
      `${id}.manifest.json`,
    ]);
    expect(await shardObjects(dest, shardId('backup', new Date(0)))).toEqual([]);
  });
});
