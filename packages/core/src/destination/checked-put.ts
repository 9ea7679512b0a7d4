import { createHash } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { Destination, PutOptions } from '@matric-backup/plugin-api';
import { DestinationError } from '@matric-backup/plugin-api';
import { forward } from './forward.js';

/**
 * Wraps a Destination so that every put body is counted and hashed as the
 * plugin reads it, against `PutOptions.size` and `sha256`. A body that holds
 * more bytes fails as soon as it passes the size, one that holds fewer or
 * other bytes fails before it ends, so a plugin that commits on the end of
 * its stream never stores it. A plugin that reports success without reading
 * the whole body (or, when it took `sourcePath`, stored another size) has its
 * key deleted again, unless the put was `ifAbsent`. Always INTEGRITY and never retryable: the body is what
 * the caller gave, and the next attempt would give the same.
 */
export function checkPuts(inner: Destination): Destination {
  return {
    ...forward(inner),
    async put(key: string, body: Readable, options: PutOptions): Promise<void> {
      const check = new BodyCheck(key, body, options);
      try {
        await inner.put(key, check, options);
      } catch (error) {
        // The plugin may have wrapped the check's error in its own; the check's is the reason.
        throw check.failure ?? error;
      }
      // A plugin that took sourcePath (or had no bytes to read) is judged by what it stored.
      const tookFile = options.sourcePath !== undefined || options.size === 0;
      // Flushed is not enough: the plugin must also have read what the check passed on.
      const problem =
        check.verified && check.readableEnded
          ? undefined
          : tookFile
            ? await storedSizeProblem(inner, key, options.size)
            : 'the destination reported success before reading the body to its end';
      if (problem === undefined) return;
      // With ifAbsent the object under the key may be another writer's (a plugin that took an
      // existing key for success, a store that cannot refuse atomically): nothing is deleted on
      // doubt. Core's run leaves such a shard incomplete, and prune removes it once its run is known failed.
      if (options.ifAbsent)
        throw integrityError(`put ${JSON.stringify(key)}: ${problem}; the object under it was left as it is`);
      await inner.delete(key).catch(() => undefined);
      throw integrityError(`put ${JSON.stringify(key)}: ${problem}; the object was removed again`);
    },
  };
}

async function storedSizeProblem(inner: Destination, key: string, size: number): Promise<string | undefined> {
  const stored = await inner.stat(key);
  if (stored?.size === size) return undefined;
  return stored ? `${stored.size} bytes stored from the file, ${size} expected` : 'nothing stored under it';
}

function integrityError(message: string): DestinationError {
  return new DestinationError('INTEGRITY', message, { retryable: false });
}

class BodyCheck extends Transform {
  bytes = 0;
  verified = false;
  failure: DestinationError | undefined;
  readonly #hash = createHash('sha256');

  #piped = false;

  constructor(
    readonly key: string,
    readonly body: Readable,
    readonly options: PutOptions,
  ) {
    super();
  }

  // The body flows only once the plugin reads: a plugin that takes sourcePath
  // instead leaves it unread. Errors then travel both ways: a broken body fails
  // this stream, and a plugin that destroys this stream releases the body.
  override _read(size: number): void {
    if (!this.#piped) {
      this.#piped = true;
      pipeline(this.body, this, () => undefined);
    }
    super._read(size);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (!this.#piped) this.body.destroy();
    super._destroy(error, done);
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.bytes += bytes.length;
    if (this.bytes > this.options.size) {
      done(this.fail(`the body holds more than ${this.options.size} bytes`));
      return;
    }
    this.#hash.update(bytes);
    done(null, bytes);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.options.size) {
      done(this.fail(`the body held ${this.bytes} bytes, ${this.options.size} expected`));
      return;
    }
    const sha256 = this.#hash.digest('hex');
    if (sha256 !== this.options.sha256) {
      done(this.fail(`the body's sha256 is ${sha256}, ${this.options.sha256} expected`));
      return;
    }
    this.verified = true;
    done();
  }

  private fail(reason: string): DestinationError {
    this.failure = integrityError(`put ${JSON.stringify(this.key)}: ${reason}`);
    return this.failure;
  }
}
