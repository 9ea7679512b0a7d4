import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIndexFile } from '../src/archive/index-file.js';
import type { StoredFormat } from '../src/archive/transforms.js';
import { checkIndexObject, readShardListing } from '../src/shard/index-object.js';
import type { ShardManifest } from '../src/shard/manifest.js';
import { shardKeys } from '../src/shard/naming.js';
import { buildShard } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

const dir = mkdtempSync(join(tmpdir(), 'mb-index-object-'));
let identity: string;
let recipient: string;
beforeAll(() => {
  identity = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tree = [
  { path: 'data', type: 'directory' as const },
  { path: 'data/a.txt', type: 'file' as const, content: 'alpha\n' },
  { path: 'data/\u00e9t\u00e9 \u2603.bin', type: 'file' as const, content: Buffer.from([0, 1, 2, 255]) },
  { path: 'data/link', type: 'symlink' as const, target: 'a.txt' },
];

/** A shard on a memory destination with an index object made as a run makes one. */
async function shardWithIndex(format: StoredFormat) {
  const dest = memoryDestination();
  const { manifest, inner } = await buildShard(dest, { entries: tree });
  const manifestFile = join(dir, `${Math.random()}.json`);
  writeFileSync(manifestFile, JSON.stringify(inner));
  const indexFile = `${manifestFile}.index`;
  const written = await writeIndexFile(manifestFile, indexFile, format);
  const stored = readFileSync(indexFile);
  const name = shardKeys(manifest.id, 'zstd', format.encryption?.method ?? null).index;
  await dest.put(name, Readable.from([stored]), { size: stored.length, sha256: written.sha256 });
  const withIndex: ShardManifest = {
    ...manifest,
    index: { name, size: written.size, checksum: `sha256:${written.sha256}` },
  };
  return { dest, manifest: withIndex, inner, stored };
}

describe('the index object', () => {
  it('round-trips the inner manifest; size and checksum are those of the stored bytes', async () => {
    const { dest, manifest, inner, stored } = await shardWithIndex({ compression: 'zstd', encryption: null });
    expect(manifest.index!.size).toBe(stored.length);
    expect(manifest.index!.checksum).toBe(`sha256:${createHash('sha256').update(stored).digest('hex')}`);
    // zstd frame magic: the index is compressed, not the JSON as is.
    expect(stored.subarray(0, 4).toString('hex')).toBe('28b52ffd');
    const listing = await readShardListing(dest, manifest);
    expect(listing).toEqual({ inner, source: 'index' });
    expect(await checkIndexObject(dest, manifest, {}, inner)).toBeUndefined();
  });

  it('is age-encrypted like the archive, and read with its identity', async () => {
    const { dest, manifest, inner, stored } = await shardWithIndex({
      compression: 'zstd',
      encryption: { method: 'age', recipients: [recipient] },
    });
    expect(manifest.index!.name).toMatch(/\.index\.json\.zst\.age$/);
    expect(stored.toString('latin1')).toContain('age-encryption.org/v1');
    expect(stored.toString('latin1')).not.toContain('a.txt');
    const encrypted: ShardManifest = { ...manifest, encryption: { method: 'age', recipient_count: 1 } };
    expect(await readShardListing(dest, encrypted, { identity })).toEqual({ inner, source: 'index' });
    // Without the key only the stored bytes are checked, and they are intact.
    expect(await checkIndexObject(dest, encrypted, {})).toBeUndefined();
    await expect(readShardListing(dest, encrypted, {})).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('missing or damaged: the archive is read instead, saying why; verify only warns', async () => {
    const { dest, manifest, inner } = await shardWithIndex({ compression: 'zstd', encryption: null });
    const name = manifest.index!.name;
    dest.objects.get(name)!.bytes[3]! ^= 0xff;
    const damaged = await readShardListing(dest, manifest);
    expect(damaged).toMatchObject({ inner, source: 'archive', fallback: { code: 'INDEX_DAMAGED' } });
    expect(await checkIndexObject(dest, manifest, {}, inner)).toMatch(
      /checksum .* differs.*read the archive/,
    );

    dest.objects.delete(name);
    expect(await readShardListing(dest, manifest)).toMatchObject({
      inner,
      source: 'archive',
      fallback: { code: 'INDEX_MISSING', message: expect.stringContaining(name) },
    });
    const { index: _none, ...older } = manifest;
    expect(await readShardListing(dest, older)).toMatchObject({
      source: 'archive',
      fallback: { code: 'INDEX_ABSENT' },
    });
  });
});
