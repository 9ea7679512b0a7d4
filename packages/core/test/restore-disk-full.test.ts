import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreShard } from '../src/restore/restore.js';
import { buildShard } from './fixtures/read/build-shard.js';
import { memoryDestination } from './fixtures/read/memory-destination.js';

// A real file system that runs out of space: a 4 MiB tmpfs (needs root, as CI runs).
const canMount = process.getuid?.() === 0;

describe.skipIf(!canMount)('restore onto a full disk', () => {
  let mountPoint: string;

  beforeAll(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'matric-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  });

  afterAll(async () => {
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('fails with NO_SPACE, leaves the target exactly as it was and no temporary folder', async () => {
    const dest = memoryDestination();
    const { manifest } = await buildShard(dest, {
      entries: [
        { path: 'data', type: 'directory' },
        ...Array.from({ length: 40 }, (_, index) => ({
          path: `data/small-${index}.txt`,
          type: 'file' as const,
          content: `file ${index}\n`,
        })),
        { path: 'data/big.bin', type: 'file', content: randomBytes(6 * 1024 * 1024) },
      ],
    });
    const target = join(mountPoint, 'restored');
    await mkdir(target);
    await writeFile(join(target, 'kept.txt'), 'was here before\n');

    const failure = await restoreShard({ from: dest, manifest, to: target, conflict: 'overwrite' }).catch(
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({ code: 'NO_SPACE' });
    expect((failure as Error).message).toContain(`${target} left unchanged`);
    expect(await readdir(target)).toEqual(['kept.txt']);
    expect(await readFile(join(target, 'kept.txt'), 'utf8')).toBe('was here before\n');
    expect(await readdir(mountPoint)).toEqual(['restored']);
  });
});
