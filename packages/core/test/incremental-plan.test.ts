import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { memoryDestination } from '@matric-backup/destination-testkit';
import type { Destination } from '@matric-backup/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncrementalPolicy } from '../src/config/schema.js';
import type { LoadedConfig } from '../src/config/types.js';
import { planShard } from '../src/incremental/decide.js';
import { writeFileList } from '../src/incremental/file-list.js';
import type { ShardManifest } from '../src/shard/manifest.js';
import { shardId, writerTag } from '../src/shard/naming.js';
import type { SourceOrigin } from '../src/sources/types.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const TAG = writerTag('a', 'host-a');
const origins: SourceOrigin[] = [{ name: 'data', type: 'directory', path: '/srv/data' }];

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'mb-plan-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

const config = (incremental?: Partial<IncrementalPolicy>): LoadedConfig =>
  ({
    file: join(stateDir, 'backup.yaml'),
    backup: {
      name: 'a',
      source_instance: 'host-a',
      id_prefix: 'backup',
      state_dir: stateDir,
      ...(incremental && {
        incremental: { full_every: '7d', max_chain: 14, compare: 'metadata', ...incremental },
      }),
    },
  }) as unknown as LoadedConfig;

async function store(dests: Destination[], withoutOrigins: ShardManifest): Promise<void> {
  const manifest = { ...withoutOrigins, origins };
  for (const dest of dests) {
    for (const [key, text] of [
      [manifest.object.name, 'x'],
      [`${manifest.id}.manifest.json`, JSON.stringify(manifest)],
    ] as const)
      await dest.put(key, Readable.from([Buffer.from(text)]), { size: text.length, sha256: '' });
  }
}

/** A full shard `daysAgo` days old, then `incrementals` daily incrementals on it; returns them oldest first. */
async function chain(dests: Destination[], daysAgo: number, incrementals: number, writer = 'a') {
  const at = (days: number) => new Date(NOW.getTime() - days * DAY);
  const full = placeholderSidecar(shardId('backup', at(daysAgo), TAG), at(daysAgo), { writer });
  await store(dests, full);
  const links: ShardManifest[] = [full];
  for (let n = 1; n <= incrementals; n++) {
    const when = at(daysAgo - n);
    const link = placeholderSidecar(shardId('backup', when, TAG), when, {
      writer,
      incremental: { parent: links.at(-1)!.id, base: full.id, chain_length: n },
    });
    await store(dests, link);
    links.push(link);
  }
  return links;
}

const listFor = (shard: string, withOrigins = origins) =>
  writeFileList(stateDir, join(stateDir, 'backup.yaml'), {
    header: { version: 1, shard, writer: 'a', tag: TAG, created_at: NOW.toISOString(), origins: withOrigins },
    records: new Map([['data', { path: 'data', type: 'directory', mode: 0o755, mtime: 0 }]]),
  });

const plan = (cfg: LoadedConfig, dests: Destination[], requested?: 'full' | 'incremental') =>
  planShard({
    config: cfg,
    requested,
    destinations: dests.map((destination, index) => ({ name: `d${index}`, destination })),
    origins,
    now: NOW,
  });

describe('full or incremental', () => {
  it('without backup.incremental every run is full and records no list; --type full needs no reason', async () => {
    const dests = [memoryDestination()];
    expect(await plan(config(), dests)).toEqual({ type: 'full', recordList: false });
    expect(await plan(config({}), dests, 'full')).toEqual({ type: 'full', recordList: true });
  });

  it('is full when no destination has a shard of this config', async () => {
    expect(await plan(config({}), [memoryDestination()], 'incremental')).toEqual({
      type: 'full',
      reason: 'destination d0 holds no complete shard of this config',
      recordList: true,
    });
  });

  it('without a file list in the state folder reads the chain; one it cannot read makes a full shard, saying both', async () => {
    const dests = [memoryDestination()];
    const [full] = await chain(dests, 1, 0);
    const result = (await plan(config({}), dests)) as { type: string; reason: string };
    expect(result.type).toBe('full');
    // The placeholder archive is one byte, not the sidecar's 100: the copy is damaged.
    expect(result.reason).toMatch(
      new RegExp(
        `^no file list of an earlier run of this config in .*, and the chain of ${full!.id} could not be read from destination d0: shard ${full!.id}: stored object is 1 bytes`,
      ),
    );
  });

  it('chains on the newest shard when every destination holds its whole chain', async () => {
    const dests = [memoryDestination(), memoryDestination()];
    const [full, first] = await chain(dests, 3, 1);
    await listFor(first!.id);
    expect(await plan(config({}), dests)).toMatchObject({
      type: 'incremental',
      parent: { id: first!.id },
      base: full!.id,
      chainLength: 2,
    });
  });

  it('is full when a destination lacks a link, or the list is stale and the chain unreadable', async () => {
    const both = [memoryDestination(), memoryDestination()];
    const [full, first] = await chain(both, 3, 1);
    await listFor(first!.id);
    await both[1]!.delete(`${full!.id}.manifest.json`);
    expect(await plan(config({}), both)).toMatchObject({
      type: 'full',
      reason: `destination d1 lacks shard ${full!.id}, a link of the chain of ${first!.id} (missing, incomplete or not this config's)`,
    });
    await listFor(full!.id);
    expect((await plan(config({}), [both[0]!])) as { reason: string }).toMatchObject({
      type: 'full',
      reason: expect.stringContaining(
        `the local file list describes ${full!.id}, not ${first!.id}, the newest shard of this config, and the chain of ${first!.id} could not be read`,
      ),
    });
  });

  it('is full when a link was written by another config', async () => {
    const dests = [memoryDestination()];
    const [full] = await chain(dests, 3, 0, 'other');
    const own = placeholderSidecar(
      shardId('backup', new Date(NOW.getTime() - DAY), TAG),
      new Date(NOW.getTime() - DAY),
      {
        writer: 'a',
        incremental: { parent: full!.id, base: full!.id, chain_length: 1 },
      },
    );
    await store(dests, own);
    await listFor(own.id);
    expect(await plan(config({}), dests)).toMatchObject({
      type: 'full',
      reason: expect.stringContaining(`lacks shard ${full!.id}`),
    });
  });

  it('is full once the chain holds max_chain incrementals or its full shard is full_every old', async () => {
    const dests = [memoryDestination()];
    const links = await chain(dests, 5, 3);
    await listFor(links.at(-1)!.id);
    expect(await plan(config({ max_chain: 4 }), dests)).toMatchObject({
      type: 'incremental',
      chainLength: 4,
    });
    expect(await plan(config({ max_chain: 3 }), dests)).toMatchObject({
      type: 'full',
      reason: `the chain of ${links[0]!.id} holds 3 incrementals (incremental.max_chain)`,
    });
    expect(await plan(config({ full_every: '5d' }), dests)).toMatchObject({
      type: 'full',
      reason: `the chain's full shard ${links[0]!.id} is 5 days old (incremental.full_every: 5d)`,
    });
    expect(await plan(config({ full_every: '6d' }), dests)).toMatchObject({ type: 'incremental' });
  });

  it('is full when the sources changed since the list was made', async () => {
    const dests = [memoryDestination()];
    const [full] = await chain(dests, 1, 0);
    await listFor(full!.id, [{ name: 'data', type: 'directory', path: '/srv/elsewhere' }]);
    expect(await plan(config({}), dests)).toMatchObject({
      type: 'full',
      reason: `the sources changed since shard ${full!.id}`,
    });
  });
});
