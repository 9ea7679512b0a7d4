import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { ShardManifest } from '../src/shard/manifest.js';
import { ObjectDigest, pump } from '../src/shard/read.js';

const MiB = 1024 * 1024;
/** Eight 1 MiB chunks, each of its own byte, so a prefix of the object is easy to tell. */
const object = Buffer.concat(Array.from({ length: 8 }, (_, index) => Buffer.alloc(MiB, index + 1)));

/** A stored object read the way destinations hand it out: small chunks. */
const storedObject = () =>
  Readable.from(
    (function* () {
      for (let offset = 0; offset < object.length; offset += 64 * 1024)
        yield object.subarray(offset, offset + 64 * 1024);
    })(),
  );

/** A sink that keeps what it is given and fails at its `failAt`-th write (1-based), if any. */
function sink(failAt?: number) {
  const received: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      callback(received.length === failAt ? new Error('the archive is damaged here') : null);
    },
  });
  return { stream, received: () => Buffer.concat(received), done: finished(stream) };
}

const manifestOf = (bytes: Buffer) =>
  ({
    object: { name: 'x.tar.zst', size: bytes.length },
    checksum: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  }) as ShardManifest;

describe('pump: a stored object into the decode chain', () => {
  it('writes every byte to the sink, ends it, and digests the whole object', async () => {
    const digest = new ObjectDigest();
    const target = sink();
    const progress: number[] = [];
    const result = await pump(storedObject(), digest, target.stream, target.done, {
      onChunk: (bytes) => progress.push(bytes),
    });
    expect(result).toEqual({});
    expect(target.received().equals(object)).toBe(true);
    expect(digest.problems(manifestOf(object))).toEqual([]);
    expect(progress.at(-1)).toBe(object.length);
  });

  it('stops reading where the sink failed, and returns its error', async () => {
    const digest = new ObjectDigest();
    const target = sink(2);
    const { sinkError } = await pump(storedObject(), digest, target.stream, target.done);
    expect((sinkError as Error).message).toBe('the archive is damaged here');
    expect(digest.bytes).toBeGreaterThanOrEqual(2 * MiB);
    expect(digest.bytes).toBeLessThan(object.length);
  });

  it('reads on to the end after a sink failure when readOnAfter says so, deciding by the error', async () => {
    const seen: unknown[] = [];
    const digest = new ObjectDigest();
    const target = sink(2);
    const { sinkError } = await pump(storedObject(), digest, target.stream, target.done, {
      readOnAfter: (error) => {
        seen.push(error);
        return true;
      },
    });
    expect(sinkError).toBeInstanceOf(Error);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((error) => error === sinkError)).toBe(true);
    // The whole object was digested: its checksum is the one of the stored bytes.
    expect(digest.problems(manifestOf(object))).toEqual([]);
    // Nothing after the failure reached the sink.
    expect(target.received().length).toBe(2 * MiB);

    const stopped = new ObjectDigest();
    const other = sink(2);
    await pump(storedObject(), stopped, other.stream, other.done, { readOnAfter: () => false });
    expect(stopped.bytes).toBeLessThan(object.length);
  });

  it('rejects with the source error when reading fails, and destroys the sink', async () => {
    const source = Readable.from(
      (async function* () {
        yield Buffer.alloc(MiB);
        throw new Error('connection reset');
      })(),
    );
    const target = sink();
    await expect(
      pump(
        source,
        new ObjectDigest(),
        target.stream,
        target.done.catch(() => undefined),
      ),
    ).rejects.toThrow('connection reset');
    expect(target.stream.destroyed).toBe(true);
  });
});
