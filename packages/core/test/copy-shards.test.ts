import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { describe, expect, it } from 'vitest';
import { copyShards } from '../src/copy/copy.js';
import { guardDestination } from '../src/destination/guarded.js';
import type { ShardManifest } from '../src/shard/manifest.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const policy = { retries: 0, initialDelayMs: 0, maxDelayMs: 0, factor: 2 };
const names = { from: 'a', to: 'b' };
const FULL = 'backup_20240517_103015_abcdefgh';
const INC1 = 'backup_20240518_103015_abcdefgh';
const INC2 = 'backup_20240519_103015_abcdefgh';
const OTHER = 'backup_20240520_103015_abcdefgh';
const DAY = 86_400_000;
const at = (days: number) => new Date(Date.UTC(2024, 4, 17, 10, 30, 15) + days * DAY);

/** A shard whose archive is `bytes` (copy never opens it), with a sidecar that matches them. */
function shard(
  id: string,
  days: number,
  bytes: Buffer,
  incremental?: { parent: string; base: string; chain_length: number },
) {
  const sidecar: ShardManifest = {
    ...placeholderSidecar(id, at(days), { objectSize: bytes.length, ...(incremental && { incremental }) }),
    checksum: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  };
  return { sidecar, bytes };
}

async function store(dest: ReturnType<typeof guardDestination>, ...shards: Array<ReturnType<typeof shard>>) {
  for (const { sidecar, bytes } of shards) {
    const put = (key: string, body: Buffer) =>
      dest.put(key, Readable.from([body]), {
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
    await put(sidecar.object.name, bytes);
    await put(`${sidecar.id}.manifest.json`, Buffer.from(JSON.stringify(sidecar)));
  }
}

async function keysOf(dest: ReturnType<typeof guardDestination>): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of dest.list('')) keys.push(object.key);
  return keys.sort();
}

const pair = () => ({
  a: guardDestination('a', memoryDestination()),
  b: guardDestination('b', memoryDestination()),
});
const full = shard(FULL, 0, Buffer.alloc(3000, 1));
const inc1 = shard(INC1, 1, Buffer.alloc(500, 2), { parent: FULL, base: FULL, chain_length: 1 });
const inc2 = shard(INC2, 2, Buffer.alloc(400, 3), { parent: INC1, base: FULL, chain_length: 2 });

/** `shard()` with an index object of `index` bytes, named in its sidecar. */
function withIndex(base: ReturnType<typeof shard>, index: Buffer) {
  const name = `${base.sidecar.id}.index.json.zst`;
  const sidecar: ShardManifest = {
    ...base.sidecar,
    index: {
      name,
      size: index.length,
      checksum: `sha256:${createHash('sha256').update(index).digest('hex')}`,
    },
  };
  return { ...base, sidecar, index: { name, bytes: index } };
}

describe('copyShards', () => {
  it("copies a shard's index object with it; a missing or damaged one is left out with a warning", async () => {
    const { a, b } = pair();
    const indexed = withIndex(shard(FULL, 0, Buffer.alloc(3000, 1)), Buffer.from('the file list'));
    const damaged = withIndex(shard(INC1, 1, Buffer.alloc(500, 2)), Buffer.from('another list'));
    const lost = withIndex(shard(INC2, 2, Buffer.alloc(400, 3)), Buffer.from('a lost list'));
    await store(a, indexed, damaged, lost);
    const put = (key: string, body: Buffer) =>
      a.put(key, Readable.from([body]), {
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
    await put(indexed.index.name, indexed.index.bytes);
    await put(damaged.index.name, Buffer.from('another lisT'));
    const warnings: string[] = [];
    const outcomes = await copyShards(a, b, {
      shards: 'all',
      policy,
      names,
      warn: (message) => warnings.push(message),
    });
    expect(outcomes.map((o) => o.status)).toEqual(['copied', 'copied', 'copied']);
    const keys = await keysOf(b);
    expect(keys).toContain(indexed.index.name);
    expect(keys).not.toContain(damaged.index.name);
    expect(keys).not.toContain(lost.index.name);
    expect(keys.filter((key) => key.endsWith('.manifest.json'))).toHaveLength(3);
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`${damaged.index.name} was not copied .*reads its archive instead`)),
      expect.stringMatching(new RegExp(`${lost.index.name} was not copied .*reads its archive instead`)),
    ]);
  });

  it('copies an incremental shard with the links of its chain the target lacks, base first', async () => {
    const { a, b } = pair();
    await store(a, full, inc1, inc2);
    await store(b, full);
    const outcomes = await copyShards(a, b, { shards: [INC2], policy, names });
    expect(outcomes.map((o) => [o.manifest.id, o.status, o.linkOf])).toEqual([
      [FULL, 'present', INC2],
      [INC1, 'copied', INC2],
      [INC2, 'copied', undefined],
    ]);
    expect(await keysOf(b)).toEqual(await keysOf(a));
    const copied = await b.get(inc2.sidecar.object.name);
    const chunks: Buffer[] = [];
    for await (const chunk of copied) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(inc2.bytes);
  });

  it('a dry run writes nothing; a second copy finds everything present', async () => {
    const { a, b } = pair();
    await store(a, full, inc1);
    const dry = await copyShards(a, b, { shards: 'all', policy, names, dryRun: true });
    expect(dry.map((o) => o.status)).toEqual(['would_copy', 'would_copy']);
    expect(await keysOf(b)).toEqual([]);
    await copyShards(a, b, { shards: 'all', policy, names });
    const again = await copyShards(a, b, { shards: 'all', policy, names });
    expect(again.map((o) => o.status)).toEqual(['present', 'present']);
  });

  it('a damaged source archive fails its put check: nothing stored for it, nor for the shards that need it', async () => {
    const { a, b } = pair();
    await store(a, full, inc1, inc2);
    // Same size, one byte changed: only the checksum tells.
    const damaged = Buffer.from(inc1.bytes);
    damaged[100] ^= 0xff;
    await a.delete(inc1.sidecar.object.name);
    await a.put(inc1.sidecar.object.name, Readable.from([damaged]), {
      size: damaged.length,
      sha256: createHash('sha256').update(damaged).digest('hex'),
    });
    const outcomes = await copyShards(a, b, { shards: 'all', policy, names });
    expect(outcomes.map((o) => [o.manifest.id, o.status])).toEqual([
      [FULL, 'copied'],
      [INC1, 'failed'],
      [INC2, 'failed'],
    ]);
    expect(outcomes[1]!.error).toMatchObject({ code: 'INTEGRITY' });
    expect((outcomes[2]!.error as Error).message).toContain(`${INC1}, a link of its chain, failed to copy`);
    expect(await keysOf(b)).toEqual([full.sidecar.object.name, `${FULL}.manifest.json`].sort());
  });

  it('completes a shard whose archive an earlier copy left without its sidecar; refuses a foreign one', async () => {
    const { a, b } = pair();
    const other = shard(OTHER, 3, Buffer.alloc(200, 9));
    await store(a, full, other);
    await b.put(full.sidecar.object.name, Readable.from([full.bytes]), {
      size: full.bytes.length,
      sha256: full.sidecar.checksum.slice(7),
    });
    const foreign = Buffer.alloc(200, 8);
    await b.put(other.sidecar.object.name, Readable.from([foreign]), {
      size: foreign.length,
      sha256: createHash('sha256').update(foreign).digest('hex'),
    });
    const outcomes = await copyShards(a, b, { shards: 'all', policy, names });
    expect(outcomes.map((o) => [o.manifest.id, o.status, o.resumed])).toEqual([
      [FULL, 'copied', true],
      [OTHER, 'failed', undefined],
    ]);
    expect(outcomes[1]!.error).toMatchObject({ code: 'ALREADY_EXISTS' });
    // The foreign object is left as it was, and no sidecar makes it look complete.
    expect(await keysOf(b)).toEqual(
      [full.sidecar.object.name, `${FULL}.manifest.json`, other.sidecar.object.name].sort(),
    );
  });

  it('refuses an incremental whose chain neither side holds whole, and a same-id shard of other bytes', async () => {
    const { a, b } = pair();
    await store(a, inc2, full);
    const clash = shard(FULL, 0, Buffer.alloc(3000, 7));
    await store(b, clash);
    const outcomes = await copyShards(a, b, { shards: [INC2, FULL], policy, names });
    expect(outcomes.map((o) => [o.manifest.id, o.status, (o.error as { code?: string })?.code])).toEqual([
      [FULL, 'failed', 'ALREADY_EXISTS'],
      [INC2, 'failed', 'VERIFY_FAILED'],
    ]);
  });
});
