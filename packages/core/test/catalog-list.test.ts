import { MatricError } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { findShard, listShards } from '../src/shard/catalog.js';
import { buildShard, store } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

const tree = [{ path: 'notes/a.txt', type: 'file' as const, content: 'a' }];

async function shardAt(
  dest: ReturnType<typeof memoryDestination>,
  id: string,
  createdAt: string,
  sidecar = true,
) {
  return buildShard(dest, {
    id,
    entries: tree,
    sidecar,
    editSidecar: (manifest) => {
      manifest.created_at = createdAt;
      manifest.timestamp = createdAt;
    },
  });
}

/** A sidecar edit recording `name` as the shard's index object. */
const namingIndex = (name: string) => (manifest: { index?: unknown }) => {
  manifest.index = { name, size: 5, checksum: `sha256:${'0'.repeat(64)}` };
};

describe('listShards', () => {
  it("groups an index object with its shard; a sidecar naming another shard's index keeps its shard, without the index", async () => {
    const dest = memoryDestination();
    await buildShard(dest, {
      id: 'backup_20240101_000000',
      entries: tree,
      editSidecar: namingIndex('backup_20240101_000000.index.json.zst'),
    });
    await store(dest, 'backup_20240101_000000.index.json.zst', Buffer.from('index'));
    await buildShard(dest, {
      id: 'backup_20240201_000000',
      entries: tree,
      editSidecar: namingIndex('backup_20240101_000000.index.json.zst'),
    });
    // An index left by an upload that never stored its sidecar.
    await store(dest, 'backup_20240301_000000.index.json.zst.age', Buffer.from('index'));

    const { complete, incomplete } = await listShards(dest);
    expect(complete.map((manifest) => [manifest.id, manifest.index?.name])).toEqual([
      ['backup_20240201_000000', undefined],
      ['backup_20240101_000000', 'backup_20240101_000000.index.json.zst'],
    ]);
    expect(incomplete).toMatchObject([
      {
        id: 'backup_20240301_000000',
        keys: ['backup_20240301_000000.index.json.zst.age'],
        reason: 'no sidecar manifest',
      },
    ]);
  });

  it('lists complete shards newest first and flags the incomplete ones', async () => {
    const dest = memoryDestination();
    await shardAt(dest, 'backup_20240101_000000', '2024-01-01T00:00:00.000Z');
    await shardAt(dest, 'backup_20240301_000000', '2024-03-01T00:00:00.000Z');
    await shardAt(dest, 'backup_20240201_000000', '2024-02-01T00:00:00.000Z');
    await shardAt(dest, 'backup_20240401_000000', '2024-04-01T00:00:00.000Z', false);
    // A sidecar that is not JSON, and one whose archive is gone.
    await shardAt(dest, 'backup_20240501_000000', '2024-05-01T00:00:00.000Z');
    await store(dest, 'backup_20240501_000000.manifest.json', Buffer.from('{"version": '));
    await shardAt(dest, 'backup_20240601_000000', '2024-06-01T00:00:00.000Z');
    await dest.delete('backup_20240601_000000.tar.zst');
    // Not ours: foreign names, nested keys, a temporary upload.
    await store(dest, 'README.txt', Buffer.from('hello'));
    await store(dest, 'old/backup_20230101_000000.tar.zst', Buffer.from('x'));
    await store(dest, '.backup_20240701_000000.tar.zst.tmp-1', Buffer.from('x'));

    const { complete, incomplete } = await listShards(dest);

    expect(complete.map((manifest) => manifest.id)).toEqual([
      'backup_20240301_000000',
      'backup_20240201_000000',
      'backup_20240101_000000',
    ]);
    expect(complete[0]!.object).toEqual({ name: 'backup_20240301_000000.tar.zst', size: expect.any(Number) });
    expect(incomplete.map(({ id, keys, reason }) => ({ id, keys, reason }))).toEqual([
      {
        id: 'backup_20240601_000000',
        keys: ['backup_20240601_000000.manifest.json'],
        reason: 'archive object backup_20240601_000000.tar.zst missing',
      },
      {
        id: 'backup_20240501_000000',
        keys: ['backup_20240501_000000.manifest.json', 'backup_20240501_000000.tar.zst'],
        reason: expect.stringMatching(/^unreadable sidecar manifest: not JSON/),
      },
      {
        id: 'backup_20240401_000000',
        keys: ['backup_20240401_000000.tar.zst'],
        reason: 'no sidecar manifest',
      },
    ]);
    const withoutSidecar = incomplete.find((shard) => shard.id === 'backup_20240401_000000')!;
    expect(withoutSidecar.size).toBe(dest.objects.get('backup_20240401_000000.tar.zst')!.bytes.length);
    expect(withoutSidecar.modified).toBeInstanceOf(Date);
  });

  it('treats a sidecar of the wrong shape as incomplete, naming the field', async () => {
    const dest = memoryDestination();
    await buildShard(dest, {
      entries: tree,
      editSidecar: (manifest) => {
        (manifest as { checksum: string }).checksum = 'md5:abc';
      },
    });
    const { complete, incomplete } = await listShards(dest);
    expect(complete).toEqual([]);
    expect(incomplete[0]!.reason).toMatch(/^unreadable sidecar manifest: checksum: /);
  });

  it('is empty on an empty destination', async () => {
    expect(await listShards(memoryDestination())).toEqual({ complete: [], incomplete: [] });
  });
});

describe('findShard', () => {
  it('finds a shard by id and the newest complete one as latest', async () => {
    const dest = memoryDestination();
    await shardAt(dest, 'backup_20240101_000000', '2024-01-01T00:00:00.000Z');
    await shardAt(dest, 'backup_20240201_000000', '2024-02-01T00:00:00.000Z');
    await shardAt(dest, 'backup_20240301_000000', '2024-03-01T00:00:00.000Z', false);

    expect((await findShard(dest, 'backup_20240101_000000')).id).toBe('backup_20240101_000000');
    expect((await findShard(dest, 'latest')).id).toBe('backup_20240201_000000');
  });

  it('fails with SHARD_NOT_FOUND naming the id and the destination', async () => {
    const dest = memoryDestination();
    await shardAt(dest, 'backup_20240101_000000', '2024-01-01T00:00:00.000Z', false);

    const missing = await findShard(dest, 'backup_20990101_000000', { destination: 'offsite' }).catch(
      (e) => e,
    );
    expect(missing).toBeInstanceOf(MatricError);
    expect(missing).toMatchObject({
      code: 'SHARD_NOT_FOUND',
      hint: expect.stringContaining('matric-backup list -d offsite'),
    });
    expect(missing.message).toBe('shard backup_20990101_000000 not found on destination offsite');

    // Only an incomplete shard there: latest has nothing to offer.
    const latest = await findShard(dest, 'latest', { destination: 'offsite' }).catch((e) => e);
    expect(latest).toMatchObject({
      code: 'SHARD_NOT_FOUND',
      message: 'no complete shard on destination offsite',
    });

    const bogus = await findShard(dest, '../etc/passwd').catch((e) => e);
    expect(bogus).toMatchObject({
      code: 'SHARD_NOT_FOUND',
      message: expect.stringContaining('is not a shard id'),
    });
  });
});
