import { describe, expect, it } from 'vitest';
import { readInnerManifest } from '../src/shard/inner-manifest.js';
import { buildShard, type FixtureEntry } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory' },
  { path: 'notes/a.txt', type: 'file', content: 'alpha\n' },
  { path: 'notes/sub/big.bin', type: 'file', content: Buffer.alloc(300_000, 7) },
  { path: 'notes/link', type: 'symlink', target: 'a.txt' },
];

describe('readInnerManifest', () => {
  it('returns the entries of a stored shard without writing anything', async () => {
    const dest = memoryDestination();
    const { manifest, inner } = await buildShard(dest, { entries: tree });

    const read = await readInnerManifest(dest, manifest);

    expect(read).toEqual(inner);
    expect(read.entries.map((entry) => entry.path)).toEqual(tree.map((entry) => entry.path));
  });

  it('refuses a damaged copy with INTEGRITY instead of listing it', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, { entries: tree });
    const stored = dest.objects.get(manifest.object.name)!.bytes;
    stored[Math.floor(stored.length / 2)]! ^= 0x01;

    await expect(readInnerManifest(dest, manifest)).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it('says so when the archive has no inner manifest', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, { entries: tree, innerManifest: false });

    await expect(readInnerManifest(dest, manifest)).rejects.toThrow(/has no inner manifest/);
  });
});
