import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { type Destination, DestinationError } from '@matric-backup/plugin-api';
import { afterAll, describe, expect, it } from 'vitest';
import { type UploadJob, uploadShard } from '../src/run/upload.js';

const folder = mkdtempSync(join(tmpdir(), 'mb-upload-conflict-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const keys = {
  archive: 'backup_20260101_000000_abcdefgh.tar.zst',
  index: 'backup_20260101_000000_abcdefgh.index.json.zst',
  sidecar: 'backup_20260101_000000_abcdefgh.manifest.json',
};

function jobFor(destination: Destination, archive: string, sidecar: string): UploadJob {
  const file = join(folder, `${archive}.spool`);
  writeFileSync(file, archive);
  const index = `index of ${archive}`;
  writeFileSync(`${file}.index`, index);
  return {
    name: 'shared',
    type: 'memory',
    required: true,
    destination,
    file,
    keys,
    index: {
      file: `${file}.index`,
      size: Buffer.byteLength(index),
      sha256: createHash('sha256').update(index).digest('hex'),
    },
    size: Buffer.byteLength(archive),
    sha256: createHash('sha256').update(archive).digest('hex'),
    sidecar: Buffer.from(sidecar),
    policy: { retries: 2, initialDelayMs: 0, maxDelayMs: 0, factor: 1 },
    emit: () => undefined,
    warn: () => undefined,
    describe: (error) => ({
      code: (error as DestinationError).code ?? 'UNKNOWN',
      message: (error as Error).message,
      retryable: false,
    }),
  };
}

const read = async (destination: Destination, key: string) =>
  (await buffer(await destination.get(key))).toString('utf8');

describe('two writers forced onto one shard key', () => {
  it("the second writer is refused with ALREADY_EXISTS, and the first writer's shard is untouched", async () => {
    const destination = memoryDestination();
    expect((await uploadShard(jobFor(destination, 'archive of A', 'sidecar of A'))).status).toBe('success');
    const second = await uploadShard(jobFor(destination, 'archive of B, longer', 'sidecar of B'));
    expect(second).toMatchObject({ status: 'failed', error: { code: 'ALREADY_EXISTS' } });
    expect(await read(destination, keys.archive)).toBe('archive of A');
    expect(await read(destination, keys.sidecar)).toBe('sidecar of A');
  });

  it("a refused sidecar deletes nothing: the archive stays, so does the other writer's sidecar", async () => {
    const destination = memoryDestination();
    await destination.put(keys.sidecar, Readable.from([Buffer.from('sidecar of A')]), {
      size: 12,
      sha256: '',
    });
    const result = await uploadShard(jobFor(destination, 'archive of B', 'sidecar of B'));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ALREADY_EXISTS' } });
    expect(await read(destination, keys.sidecar)).toBe('sidecar of A');
    expect(await read(destination, keys.archive)).toBe('archive of B');
  });

  it('ALREADY_EXISTS on a retry is our own stored object when the read-back says so', async () => {
    const inner = memoryDestination();
    let lost = false;
    // The first put of the archive is stored, but its answer is lost on the way back.
    const destination: Destination = {
      ...inner,
      async put(key, body, options) {
        await inner.put(key, body, options);
        if (key === keys.archive && !lost) {
          lost = true;
          throw new DestinationError('UNREACHABLE', 'connection reset after the upload', { retryable: true });
        }
      },
    };
    const result = await uploadShard(jobFor(destination, 'archive of A', 'sidecar of A'));
    expect(result).toMatchObject({ status: 'success', attempts: 2 });
    expect(await read(destination, keys.archive)).toBe('archive of A');
  });
});
