import { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import type { CompressionAlgorithm } from '../src/shard/manifest.js';
import { describeProblem } from '../src/shard/problem.js';
import { type VerifyResult, verifyShard } from '../src/shard/verify.js';
import { buildShard, type FixtureEntry, sha256, store } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory' },
  { path: 'notes/a.txt', type: 'file', content: 'alpha\n' },
  { path: 'notes/empty', type: 'file', content: '' },
  { path: 'notes/sub', type: 'directory' },
  { path: 'notes/sub/big.bin', type: 'file', content: Buffer.alloc(300_000, 7) },
  { path: 'notes/link', type: 'symlink', target: 'a.txt' },
  { path: 'db/dump.sql', type: 'file', content: 'select 1;\n' },
];

const texts = (result: VerifyResult) => result.problems.map(describeProblem);

describe('verifyShard', () => {
  it.each<CompressionAlgorithm>(['zstd', 'gzip', 'none'])(
    'accepts an intact %s shard, hashing every file',
    async (compression) => {
      const dest = memoryDestination();
      const { manifest, archive } = await buildShard(dest, { entries: tree, compression });
      const progress: number[] = [];

      const result = await verifyShard(dest, manifest, { onProgress: ({ bytes }) => progress.push(bytes) });

      expect(result).toEqual({
        id: manifest.id,
        ok: true,
        problems: [],
        warnings: [],
        filesChecked: 4,
        bytes: archive.length,
      });
      expect(progress.at(-1)).toBe(archive.length);
    },
  );

  it('detects one flipped byte in the stored object', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, { entries: tree });
    const stored = dest.objects.get(manifest.object.name)!.bytes;
    stored[Math.floor(stored.length / 2)]! ^= 0x01;

    const result = await verifyShard(dest, manifest);

    expect(result.ok).toBe(false);
    expect(result.bytes).toBe(manifest.object.size);
    expect(result.problems[0]).toEqual({
      path: manifest.object.name,
      code: 'OBJECT_CHECKSUM',
      reason: `stored object checksum sha256:${sha256(stored)} does not match the sidecar's ${manifest.checksum}`,
    });
  });

  it('detects a file whose content differs from the inner manifest', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, {
      entries: tree,
      editInner: (inner) => {
        const entry = inner.entries.find((e) => e.path === 'notes/a.txt')!;
        entry.sha256 = sha256('something else\n');
      },
    });

    const result = await verifyShard(dest, manifest);

    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        path: 'notes/a.txt',
        code: 'CONTENT_MISMATCH',
        reason: `content differs from the manifest (sha256 ${sha256('alpha\n')}, expected ${sha256('something else\n')})`,
      },
    ]);
    expect(result.filesChecked).toBe(4);
  });

  it('detects a missing file, an unexpected one, a wrong size and a wrong link target', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, {
      entries: tree,
      omit: ['db/dump.sql'],
      raw: [{ header: { name: 'notes/stowaway', type: 'file', size: 3 }, content: Buffer.from('bad') }],
      editInner: (inner) => {
        const big = inner.entries.find((e) => e.path === 'notes/sub/big.bin')!;
        big.size = 299_999;
        const link = inner.entries.find((e) => e.path === 'notes/link')!;
        link.target = 'elsewhere';
      },
      editSidecar: (sidecar) => {
        sidecar.size_bytes += 3;
      },
    });

    const result = await verifyShard(dest, manifest);

    expect(result.ok).toBe(false);
    expect(texts(result).sort()).toEqual(
      [
        'db/dump.sql: in the manifest but missing from the archive',
        'notes/link: link to a.txt in the archive, to elsewhere in the manifest',
        'notes/stowaway: file in the archive but not in the manifest',
        'notes/sub/big.bin: 300000 bytes in the archive, 299999 in the manifest',
      ].sort(),
    );
  });

  it('reports a truncated archive as unreadable, and its checksum', async () => {
    const dest = memoryDestination();
    const { manifest, archive } = await buildShard(dest, { entries: tree });
    const truncated = archive.subarray(0, archive.length - 100);
    await store(dest, manifest.object.name, truncated);

    const result = await verifyShard(dest, manifest);

    expect(result.ok).toBe(false);
    expect(result.bytes).toBe(truncated.length);
    expect(texts(result)).toEqual([
      `${manifest.object.name}: stored object is ${truncated.length} bytes, the sidecar manifest says ${archive.length}`,
      expect.stringContaining(`${manifest.object.name}: stored object checksum sha256:${sha256(truncated)}`),
      expect.stringMatching(new RegExp(`^${manifest.object.name}: archive unreadable: `)),
    ]);
  });

  it('reports an archive without its inner manifest', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, { entries: tree, innerManifest: false });
    const result = await verifyShard(dest, manifest);
    expect(result.problems).toEqual([
      {
        path: 'manifest.json',
        code: 'INNER_MANIFEST',
        reason: "not in the archive: it must be the archive's last entry",
      },
    ]);
  });

  it('stops at more data than declared (a bomb: reading on is pointless)', async () => {
    const dest = memoryDestination();
    const bomb = await buildShard(dest, {
      entries: tree,
      raw: [
        { header: { name: 'notes/bomb', type: 'file', size: 5_000_000 }, content: Buffer.alloc(5_000_000) },
      ],
    });
    expect((await verifyShard(dest, bomb.manifest)).problems).toEqual([
      {
        path: 'notes/bomb',
        code: 'OVER_LIMIT',
        reason:
          'restore would refuse the shard: the archive holds more than the 300016 bytes of files its manifest declares; the rest was not checked',
      },
    ]);
  });

  it('reports every problem: each unsafe entry is skipped and the rest still checked', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, {
      entries: tree,
      raw: [
        { header: { name: '../escape', type: 'symlink', linkname: '/etc' } },
        { header: { name: 'notes/null', type: 'character-device', devmajor: 1, devminor: 3 } },
        { header: { name: 'notes/link/under', type: 'file', size: 1 }, content: Buffer.from('x') },
      ],
      editInner: (inner) => {
        for (const entry of inner.entries) {
          if (entry.path === 'notes/a.txt' || entry.path === 'db/dump.sql') entry.sha256 = sha256('other');
        }
      },
      editSidecar: (sidecar) => {
        sidecar.size_bytes += 1;
      },
    });

    const result = await verifyShard(dest, manifest);

    expect(result.ok).toBe(false);
    expect(result.problems.map(({ path, code }) => `${code} ${path}`)).toEqual([
      'UNSAFE_ENTRY "../escape"',
      'UNSAFE_ENTRY notes/null',
      'UNSAFE_ENTRY notes/link/under',
      'CONTENT_MISMATCH notes/a.txt',
      'CONTENT_MISMATCH db/dump.sql',
    ]);
    expect(result.problems[2]!.reason).toBe(
      'restore would refuse it: would be written through the symbolic link notes/link',
    );
    expect(result.filesChecked).toBe(4);
  });

  it("fails with the destination's error when reading breaks off, rather than blaming the shard", async () => {
    const dest = memoryDestination();
    const { manifest, archive } = await buildShard(dest, { entries: tree });
    async function* halfThenFail() {
      yield archive.subarray(0, archive.length >> 1);
      throw new DestinationError('UNREACHABLE', 'connection reset');
    }
    const failing: Destination = { ...dest, get: async () => Readable.from(halfThenFail()) };
    await expect(verifyShard(failing, manifest)).rejects.toMatchObject({ code: 'UNREACHABLE' });

    await dest.delete(manifest.object.name);
    await expect(verifyShard(dest, manifest)).rejects.toMatchObject({
      name: 'DestinationError',
      code: 'NOT_FOUND',
    });
  });

  it('checks only the stored object of an encrypted shard without an identity, and says so', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, {
      entries: tree,
      editSidecar: (sidecar) => {
        sidecar.encryption = { method: 'age', recipient_count: 1 };
      },
    });
    const result = await verifyShard(dest, manifest);
    expect(result).toMatchObject({ ok: true, problems: [], filesChecked: 0, bytes: manifest.object.size });
    expect(result.warnings).toEqual([
      "contents not checked: the shard is encrypted (age) and no identity was given; only the stored object's size and sha256 were verified",
    ]);
  });
});
