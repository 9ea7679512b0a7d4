import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, DestinationError, guardDestination } from '@matric-backup/core';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const body = (text: string) => Readable.from([Buffer.from(text)]);
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-put-check-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

/** A plugin that stores only the first `limit` bytes of every body and reports success. */
function truncating(limit: number): Destination {
  const memory = memoryDestination();
  return {
    ...memory,
    async put(key, stream, options) {
      const chunks: Buffer[] = [];
      let taken = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        chunks.push(chunk.subarray(0, limit - taken));
        taken += Math.min(chunk.length, limit - taken);
        if (taken >= limit) break;
      }
      await memory.put(key, Readable.from([Buffer.concat(chunks)]), options);
    },
  };
}

describe('put check (core, around every plugin)', () => {
  it('removes the object of a plugin that reported success after reading part of the body', async () => {
    const destination = guardDestination('short', truncating(3));
    const error = await failure(destination.put('k', body('abcdef'), { size: 6, sha256: sha256('abcdef') }));
    expect(error).toMatchObject({ code: 'INTEGRITY', retryable: false, destination: 'short' });
    expect((error as Error).message).toContain('before reading the body to its end');
    expect(await destination.stat('k')).toBeUndefined();
  });

  it('fails a body shorter, longer or other than announced before the plugin sees its end, so nothing is stored', async () => {
    const destination = guardDestination('memory', memoryDestination());
    const cases = [
      { text: 'abc', size: 4, sha: sha256('abcd'), reason: 'held 3 bytes, 4 expected' },
      { text: 'abcde', size: 4, sha: sha256('abcd'), reason: 'more than 4 bytes' },
      { text: 'abce', size: 4, sha: sha256('abcd'), reason: "body's sha256" },
    ];
    for (const { text, size, sha, reason } of cases) {
      const error = await failure(destination.put('k', body(text), { size, sha256: sha }));
      expect(error).toMatchObject({ code: 'INTEGRITY', retryable: false });
      expect((error as Error).message).toContain(reason);
    }
    expect(await destination.stat('k')).toBeUndefined();
  });

  it("reports the check's reason even when the plugin wraps the stream error in its own", async () => {
    const memory = memoryDestination();
    const wrapping: Destination = {
      ...memory,
      async put(key, stream, options) {
        await memory.put(key, stream, options).catch((cause: unknown) => {
          throw new DestinationError('UNKNOWN', 'upload failed', { cause, retryable: true });
        });
      },
    };
    const error = await failure(
      guardDestination('wrapping', wrapping).put('k', body('abc'), { size: 4, sha256: sha256('abcd') }),
    );
    expect(error).toMatchObject({ code: 'INTEGRITY', retryable: false });
  });

  it('checks the stored size when the plugin took the file behind the body, and removes a wrong one', async () => {
    const file = join(scratch, 'spool');
    await writeFile(file, 'abcdef');
    const memory = memoryDestination();
    let stored = 'abcdef';
    const fromFile: Destination = {
      ...memory,
      async put(key, stream, options) {
        stream.destroy();
        await memory.put(key, body(stored), options);
      },
    };
    const destination = guardDestination('file', fromFile);
    const options = { size: 6, sha256: sha256('abcdef'), sourcePath: file };
    await destination.put('good', body('abcdef'), options);
    expect(await destination.stat('good')).toMatchObject({ size: 6 });

    stored = 'abc';
    const error = await failure(destination.put('bad', body('abcdef'), options));
    expect(error).toMatchObject({ code: 'INTEGRITY', retryable: false });
    expect((error as Error).message).toContain('3 bytes stored from the file, 6 expected');
    expect(await destination.stat('bad')).toBeUndefined();
  });

  it("never deletes on an ifAbsent put: a plugin that takes another writer's existing key for success leaves it intact", async () => {
    const memory = memoryDestination();
    await memory.put('shard', body('theirs'), { size: 6, sha256: sha256('theirs') });
    const existingIsSuccess: Destination = {
      ...memory,
      async put(key, stream, options) {
        if (options.ifAbsent && (await memory.stat(key))) {
          stream.destroy();
          return;
        }
        await memory.put(key, stream, options);
      },
    };
    const error = await failure(
      guardDestination('lax', existingIsSuccess).put('shard', body('mine!!'), {
        size: 6,
        sha256: sha256('mine!!'),
        ifAbsent: true,
      }),
    );
    expect(error).toMatchObject({ code: 'INTEGRITY', retryable: false });
    expect((error as Error).message).toContain('left as it is');
    const kept: Buffer[] = [];
    for await (const chunk of await memory.get('shard')) kept.push(chunk as Buffer);
    expect(Buffer.concat(kept).toString()).toBe('theirs');
  });
});
