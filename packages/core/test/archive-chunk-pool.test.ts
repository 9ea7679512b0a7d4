import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkPool } from '../src/archive/chunk-pool.js';
import { writeArchive } from '../src/archive/write.js';
import { parseInnerManifest } from '../src/shard/manifest-schema.js';
import { SourceProblems } from '../src/sources/problems.js';
import { readSources } from '../src/sources/read.js';
import { readArchive } from './fixtures/run/archive.js';

describe('ChunkPool', () => {
  it('hands out a given-back chunk once, and ignores memory it did not lend', () => {
    const pool = new ChunkPool(1024, 2);
    const first = pool.take(1000);
    expect(first.length).toBe(1000);
    pool.give(first);
    pool.give(first); // a second give of the same chunk must not make it available twice
    pool.give(Buffer.alloc(1024));
    const again = pool.take(10);
    expect(again.buffer).toBe(first.buffer);
    expect(pool.take(1000).buffer).not.toBe(first.buffer);
  });

  it('serves small reads without a whole chunk until chunks come back', () => {
    const pool = new ChunkPool(1024);
    expect(pool.take(10).buffer.byteLength).not.toBe(1024);
    const big = pool.take(1024);
    pool.give(big);
    expect(pool.take(10).buffer).toBe(big.buffer);
  });
});

describe('archiving with recycled read buffers', () => {
  let dir: string;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mb-pool-'));
    // Big files (several chunks, one not a multiple of the chunk size) between
    // many small ones: chunks are reused as soon as zstd has copied them.
    for (let index = 0; index < 120; index++) {
      const size =
        index % 40 === 7
          ? 2 * 1024 * 1024 + 12_345
          : index % 9 === 0
            ? 1024 * 1024
            : 1 + ((index * 7919) % 60_000);
      files.set(`f${String(index).padStart(3, '0')}.bin`, randomBytes(size));
    }
    await mkdir(join(dir, 'tree'));
    for (const [name, data] of files) await writeFile(join(dir, 'tree', name), data);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // zstd recycles read chunks once copied and its output once written; with none the
  // tar chunks themselves reach the spool file and go back once written.
  it.each(['zstd', 'none', 'gzip'] as const)(
    'stores every byte of every file intact (%s)',
    async (compression) => {
      const spoolDir = join(dir, `spool-${compression}`);
      const problems = new SourceProblems([], () => undefined);
      const result = await writeArchive(
        readSources(
          [
            {
              name: 't',
              type: 'directory',
              path: join(dir, 'tree'),
              on_error: 'warn',
              one_file_system: false,
            },
          ],
          {
            spoolDir,
            dumpDir: spoolDir,
            configDir: dir,
            problems,
          },
        ),
        {
          id: 'backup_20260101_000000',
          createdAt: new Date(),
          sources: ['t'],
          spoolDir,
          fileName: 'x.tar',
          format: { compression, encryption: null },
          problems,
        },
      );
      const entries = await readArchive(result.file, compression);
      const manifest = parseInnerManifest(entries.at(-1)!.data.toString());
      for (const [name, data] of files) {
        const entry = entries.find((candidate) => candidate.name === `t/${name}`);
        expect(entry?.data.equals(data), name).toBe(true);
        expect(manifest.entries.find((listed) => listed.path === `t/${name}`)?.sha256).toBe(
          createHash('sha256').update(data).digest('hex'),
        );
      }
    },
  );
});
