import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  type BuiltinPlugins,
  type Destination,
  loadConfig,
  MANIFEST_VERSION,
  openDestination,
  type ShardManifest,
  shardId,
  writerTag,
} from '@matric-backup/core';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, writeConfig } from './helpers/config.js';

// The load case: 1,000 shards spread over three years, pruned by the CLI
// with a daily/weekly/monthly/yearly policy, on a local folder and on S3. The
// survivors are computed by a model written independently of planRetention, and
// what is left on each destination is listed afterwards.

const DAY = 86_400_000;
const SHARDS = 1000;
const INSTANCE = 'e2e-host';
const CONFIG_NAME = 'lifecycle';
const POLICY = {
  keep_daily: 7,
  keep_weekly: 8,
  keep_monthly: 12,
  keep_yearly: 4,
  min_backups: 3,
  timezone: 'UTC',
};
const BUILTINS: BuiltinPlugins = {
  local: { packageName: '@matric-backup/plugin-local', load: () => import('@matric-backup/plugin-local') },
  s3: { packageName: '@matric-backup/plugin-s3', load: () => import('@matric-backup/plugin-s3') },
};

interface Seeded {
  id: string;
  at: Date;
  instance: string;
}

/** Deterministic times: one shard every ~26 h over three years, jittered so some days get two and some none. */
function shardTimes(): Seeded[] {
  let state = 0x5eed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const end = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const span = 3 * 365 * DAY;
  const seeded: Seeded[] = [];
  const taken = new Set<string>();
  const add = (ms: number, instance: string) => {
    let at = Math.round(ms / 1000) * 1000;
    const tag = writerTag(CONFIG_NAME, instance);
    while (taken.has(shardId('backup', new Date(at), tag))) at += 1000;
    const id = shardId('backup', new Date(at), tag);
    taken.add(id);
    seeded.push({ id, at: new Date(at), instance });
  };
  for (let i = 0; i < SHARDS; i++)
    add(end - span + (i + 0.5) * (span / SHARDS) + (random() - 0.5) * 40 * 3_600_000, INSTANCE);
  // Another host writing to the same place with the same prefix: never a candidate.
  for (let i = 0; i < 3; i++) add(end - random() * span, 'other-host');
  return seeded;
}

/** ISO week by the January-4th rule (planRetention counts from the week's Thursday instead). */
function isoWeek(at: Date): string {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const mondayIndex = (d: number) => (new Date(d).getUTCDay() + 6) % 7;
  const monday = day - mondayIndex(day) * DAY;
  let year = at.getUTCFullYear() + 1;
  let week1 = 0;
  // The ISO year is the latest year whose week 1 (the week holding January 4th) starts on or before this Monday.
  for (; ; year--) {
    const jan4 = Date.UTC(year, 0, 4);
    week1 = jan4 - mondayIndex(jan4) * DAY;
    if (week1 <= monday) break;
  }
  return `${year}-W${Math.round((monday - week1) / (7 * DAY)) + 1}`;
}

/** The reference model: group by period, the newest shard of each of the N newest groups survives. */
function expectedSurvivors(shards: Seeded[]): Set<string> {
  const newestFirst = shards
    .filter((s) => s.instance === INSTANCE)
    .sort((a, b) => b.at.getTime() - a.at.getTime());
  const keep = new Set(newestFirst.slice(0, POLICY.min_backups).map((s) => s.id));
  const periods: Array<[number, (at: Date) => string]> = [
    [POLICY.keep_daily, (at) => at.toISOString().slice(0, 10)],
    [POLICY.keep_weekly, isoWeek],
    [POLICY.keep_monthly, (at) => at.toISOString().slice(0, 7)],
    [POLICY.keep_yearly, (at) => at.toISOString().slice(0, 4)],
  ];
  for (const [count, bucketOf] of periods) {
    const newestPerBucket = new Map<string, Seeded>();
    for (const shard of newestFirst)
      if (!newestPerBucket.has(bucketOf(shard.at))) newestPerBucket.set(bucketOf(shard.at), shard);
    for (const shard of [...newestPerBucket.values()].slice(0, count)) keep.add(shard.id);
  }
  return keep;
}

function manifestOf(shard: Seeded, archiveSize: number): ShardManifest {
  return {
    version: MANIFEST_VERSION,
    format: 'matric-backup',
    id: shard.id,
    created_at: shard.at.toISOString(),
    timestamp: shard.at.toISOString(),
    created_by: 'matric-backup/e2e',
    source_instance: shard.instance,
    writer: { name: CONFIG_NAME, tag: writerTag(CONFIG_NAME, shard.instance), run: 'seeded' },
    type: 'full',
    encryption: null,
    compression: 'zstd',
    collections: ['notes'],
    counts: { files: 1, directories: 0, symlinks: 0, sources: 1 },
    file_count: 1,
    size_bytes: 8,
    options: {},
    object: { name: `${shard.id}.tar.zst`, size: archiveSize },
    checksum: `sha256:${'0'.repeat(64)}`,
  };
}

async function putObject(dest: Destination, key: string, data: Buffer): Promise<void> {
  const sha256 = createHash('sha256').update(data).digest('hex');
  await dest.put(key, Readable.from([data]), { size: data.length, sha256 });
}

/** Writes every shard (archive, then sidecar) through the destination API, 32 at a time. */
async function seed(dest: Destination, shards: Seeded[]): Promise<void> {
  const archive = Buffer.from('archive\n');
  let next = 0;
  const worker = async () => {
    while (next < shards.length) {
      const shard = shards[next++]!;
      await putObject(dest, `${shard.id}.tar.zst`, archive);
      await putObject(
        dest,
        `${shard.id}.manifest.json`,
        Buffer.from(JSON.stringify(manifestOf(shard, archive.length))),
      );
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function keysOf(dest: Destination): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of dest.list('')) keys.push(object.key);
  return keys.sort();
}

describe('1,000 shards pruned', () => {
  const shards = shardTimes();
  const survivors = expectedSurvivors(shards);
  const foreign = shards.filter((s) => s.instance !== INSTANCE).map((s) => s.id);
  let work: Awaited<ReturnType<typeof tempDir>>;
  let server: S3TestServer;
  let secretFile: string;
  const timings: string[] = [];

  beforeAll(async () => {
    work = await tempDir('mb-e2e-prune1000-');
    server = await startS3Server();
    secretFile = join(work.path, 's3.secret');
    await writeFile(secretFile, server.secretAccessKey, { mode: 0o600 });
  });
  afterAll(async () => {
    if (timings.length) console.log(timings.join('\n'));
    await server?.dispose();
    await work?.cleanup();
  });

  it('the model keeps a plausible set (sanity of the test itself)', () => {
    expect(shards.filter((s) => s.instance === INSTANCE)).toHaveLength(SHARDS);
    // 7 days, 8 weeks, 12 months and 4 years overlap: far fewer than 31 survive, far more than 7.
    expect(survivors.size).toBeGreaterThan(15);
    expect(survivors.size).toBeLessThan(31);
    expect(isoWeek(new Date('2021-01-03T12:00:00Z'))).toBe('2020-W53');
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W1');
  });

  const cases: Array<[string, () => DestinationSpec]> = [
    ['local', () => ({ name: 'store', type: 'local', path: join(work.path, 'local-store') })],
    [
      's3',
      () => ({
        name: 'store',
        type: 's3',
        endpoint: server.endpoint,
        bucket: server.bucket,
        prefix: 'many/',
        access_key_id: server.accessKeyId,
        secret_access_key_file: secretFile,
      }),
    ],
  ];

  for (const [kind, destination] of cases) {
    it(`on ${kind}: exactly the survivors of the model remain, every other shard is gone`, async () => {
      const file = await writeConfig(
        work.path,
        {
          sources: [],
          destinations: [destination()],
          retention: POLICY,
          source_instance: INSTANCE,
          name: CONFIG_NAME,
        },
        `${kind}.yaml`,
      );
      const config = await loadConfig({ file, builtins: BUILTINS });
      const dest = await openDestination(config, config.destinations[0]!);
      // An archive without a sidecar that no run record of this config explains: reported, never removed.
      const incomplete = shardId('backup', new Date(Date.UTC(2020, 0, 1)), writerTag(CONFIG_NAME, INSTANCE));
      try {
        const seededAt = performance.now();
        await seed(dest, shards);
        await putObject(dest, `${incomplete}.tar.zst`, Buffer.from('half'));
        const seedMs = performance.now() - seededAt;

        const started = performance.now();
        const prune = await runCli(['prune', '--json', '-c', file]);
        const pruneMs = performance.now() - started;
        timings.push(
          `prune of ${SHARDS} shards on ${kind}: ${(pruneMs / 1000).toFixed(1)} s (CLI, ${SHARDS - survivors.size} deleted; seeding took ${(seedMs / 1000).toFixed(1)} s)`,
        );
        expect(prune.code, prune.stderr).toBe(0);
        // Hundreds of reads in flight on one run's interrupt signal: no Node process warning leaks out.
        expect(prune.stderr).not.toMatch(/\(node:\d+\) \w*Warning/);

        const [report] = JSON.parse(prune.stdout).destinations;
        const kept = report.shards
          .filter((s: { action: string }) => s.action === 'keep')
          .map((s: { id: string }) => s.id);
        expect(new Set(kept)).toEqual(survivors);
        expect(report.shards).toHaveLength(SHARDS);
        expect(report.foreign).toBe(foreign.length);
        const doomed = shards.filter((s) => s.instance === INSTANCE && !survivors.has(s.id)).map((s) => s.id);
        expect([...report.deleted].sort()).toEqual(doomed.sort());
        expect(report.failed).toEqual([]);

        const remaining = [...survivors, ...foreign].flatMap((id) => [
          `${id}.manifest.json`,
          `${id}.tar.zst`,
        ]);
        remaining.push(`${incomplete}.tar.zst`);
        expect(await keysOf(dest)).toEqual(remaining.sort());
        if (kind === 's3') expect(server.storedKeys()).toEqual(remaining.map((key) => `many/${key}`).sort());
      } finally {
        await dest.close();
      }
    });
  }
});
