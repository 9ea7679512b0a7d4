import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { canMount, withTmpfs } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkPool } from '../src/archive/chunk-pool.js';
import { SpoolFile } from '../src/archive/spool-file.js';
import { spoolFileFor, spoolKeepers } from '../src/run/spool-kept.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a spool file destinations keep where it is', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mb-spool-kept-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is written with its spares, byte for byte, hashed, every lent chunk given back to the pool', async () => {
    const pool = new ChunkPool(1 << 20, 4);
    // 20 pool chunks and an uneven tail, so the last block is a partial one.
    const lent = Array.from({ length: 20 }, () => {
      const chunk = pool.take(1 << 20);
      randomBytes(1 << 20).copy(chunk);
      return chunk;
    });
    const bytes = Buffer.concat([...lent, Buffer.from('an uneven tail')]);
    const file = join(dir, 'spool');
    const spares = [join(dir, 'spare-1'), join(dir, 'spare-2')];
    const spool = new SpoolFile(file, pool, { keptInPlace: { spares } });
    // Written straight in: a Readable in between would hand over merged copies of the chunks.
    for (const chunk of [...lent, Buffer.from('an uneven tail')]) spool.write(chunk);
    await finished(spool.end());
    expect(spool.bytes).toBe(bytes.length);
    expect(spool.sha256()).toBe(sha256(bytes));
    expect(spool.spares).toEqual(spares);
    for (const path of [file, ...spares]) {
      expect(sha256(await readFile(path)), path).toBe(sha256(bytes));
      expect((await stat(path)).nlink).toBe(1);
    }
    // Given back: the pool lends the same memory again.
    const again = pool.take(1 << 20);
    expect(lent.some((chunk) => chunk.buffer === again.buffer)).toBe(true);
  });

  it.runIf(canMount)('is written as any other file, without spares, on no local disk (tmpfs)', async () => {
    await withTmpfs(dir, async (folder) => {
      const bytes = randomBytes(5 * 1024 * 1024 + 1);
      const spool = new SpoolFile(join(folder, 'spool'), new ChunkPool(1 << 20, 4), {
        keptInPlace: { spares: [join(folder, 'spare-1')] },
      });
      spool.write(bytes);
      await finished(spool.end());
      expect(spool.spares).toEqual([]);
      expect(await readdir(folder)).toEqual(['spool']);
      expect(sha256(await readFile(join(folder, 'spool')))).toBe(sha256(bytes));
    });
  });

  it('keepers: the destinations whose folder, made or still to be made, is on the spool folder file system', async () => {
    const destinations = [
      { name: 'here', folder: join(dir, 'destination') },
      { name: 's3', folder: undefined },
      { name: 'later', folder: join(dir, 'not', 'made', 'yet') },
    ];
    expect(await spoolKeepers(dir, destinations)).toEqual(['here', 'later']);
    // A tmpfs is another file system: its destination copies the spool file.
    if (existsSync('/dev/shm') && !dir.startsWith('/dev/shm'))
      expect(await spoolKeepers(dir, [{ name: 'shm', folder: '/dev/shm/mb-spool-kept' }])).toEqual([]);
  });

  it('gives each keeper a file of its own, the spool file to everyone else; a keeper whose spare was given up waits for the first', () => {
    const fileFor = spoolFileFor(['a', 'b', 'c'], { file: 'spool', spares: ['spare-1', undefined] });
    expect(['a', 'b', 'c', 's3'].map(fileFor)).toEqual([
      { file: 'spool' },
      { file: 'spare-1' },
      { file: 'spool', after: 'a' },
      { file: 'spool' },
    ]);
    // No spares written at all (no local disk file system): each keeper tries the spool file.
    expect(['a', 'b'].map(spoolFileFor(['a', 'b'], { file: 'spool', spares: [] }))).toEqual([
      { file: 'spool' },
      { file: 'spool' },
    ]);
  });
});
