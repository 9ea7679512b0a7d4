import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkPool } from '../src/archive/chunk-pool.js';
import { SpoolFile } from '../src/archive/spool-file.js';
import { spoolKeptInPlace } from '../src/run/spool-kept.js';

describe('the spool file written to the disk as it grows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mb-writeback-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stores every byte, hashed, across several background fdatasyncs', async () => {
    const pool = new ChunkPool(1 << 20, 4);
    // 80 MiB of 1 MiB chunks: two fdatasyncs are started (every 32 MiB) while later chunks are written.
    const chunks = Array.from({ length: 80 }, () => {
      const chunk = pool.take(1 << 20);
      randomBytes(1 << 20).copy(chunk);
      return chunk;
    });
    const expected = createHash('sha256');
    for (const chunk of chunks) expected.update(chunk);
    const digest = expected.digest('hex');
    const file = join(dir, 'spool');
    const spool = new SpoolFile(file, pool, undefined, true);
    await pipeline(Readable.from(chunks, { objectMode: false }), spool);
    expect(spool.bytes).toBe(80 << 20);
    expect(spool.sha256()).toBe(digest);
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(digest);
  });

  it('is asked for when a destination folder, made or still to be made, is on the spool folder file system', async () => {
    expect(await spoolKeptInPlace(dir, [join(dir, 'destination')])).toBe(true);
    expect(await spoolKeptInPlace(dir, [join(dir, 'not', 'made', 'yet')])).toBe(true);
    expect(await spoolKeptInPlace(dir, [])).toBe(false);
    // A tmpfs is another file system: its destination copies the spool file, which then need not reach the disk.
    if (existsSync('/dev/shm') && !dir.startsWith('/dev/shm'))
      expect(await spoolKeptInPlace(dir, ['/dev/shm/mb-writeback-destination'])).toBe(false);
  });
});
