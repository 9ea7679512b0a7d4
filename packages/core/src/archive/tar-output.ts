import { Readable } from 'node:stream';
import type { ChunkPool } from './chunk-pool.js';

/** Two zero blocks end a tar archive. */
const END_OF_ARCHIVE = 1024;

/**
 * The tar stream as whole chunks of the pool: headers are copied and file
 * contents read straight into the chunk being filled, and a chunk goes out
 * once full. A tree of small files thus reaches the compressor as a few
 * 1 MiB writes instead of four small buffers per file (pax header, its
 * records, ustar header, contents, padding), each a stream write and a call
 * into libzstd.
 *
 * The writer fills `space()` and calls `advance()`; after a chunk went out the
 * stream may be full: `drained()` then returns a promise to wait for.
 */
export class TarOutput extends Readable {
  private chunk: Buffer;
  private filled = 0;
  private full = false;
  private waiting?: { resolve: () => void; reject: (error: Error) => void };

  constructor(private readonly pool: ChunkPool) {
    super({ highWaterMark: pool.chunkSize });
    this.chunk = pool.take(pool.chunkSize);
  }

  /** The rest of the chunk being filled (never empty); valid until the next advance(). */
  space(): Buffer {
    return this.chunk.subarray(this.filled);
  }

  /** `count` bytes of space() were filled; a full chunk goes out. */
  advance(count: number): void {
    this.filled += count;
    if (this.filled === this.chunk.length) this.send();
  }

  write(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; ) {
      const count = bytes.copy(this.chunk, this.filled, at);
      at += count;
      this.advance(count);
    }
  }

  zeros(count: number): void {
    while (count > 0) {
      const length = Math.min(count, this.chunk.length - this.filled);
      this.chunk.fill(0, this.filled, this.filled + length);
      count -= length;
      this.advance(length);
    }
  }

  /** Pads the entry that ended with `size` content bytes to a whole 512-byte block. */
  pad(size: number): void {
    const rest = size % 512;
    if (rest !== 0) this.zeros(512 - rest);
  }

  /**
   * A promise when the consumer has enough for now, else undefined (go on).
   * Rejects once the stream is destroyed (the consumer failed): the writer stops.
   */
  drained(): Promise<void> | undefined {
    if (this.destroyed) return Promise.reject(this.errored ?? new Error('the tar stream was closed'));
    if (!this.full) return undefined;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** The end-of-archive blocks, the last chunk, the end. */
  finish(): void {
    this.zeros(END_OF_ARCHIVE);
    if (this.filled > 0) this.push(this.chunk.subarray(0, this.filled));
    this.push(null);
  }

  override _read(): void {
    this.full = false;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error ?? new Error('the tar stream was closed'));
    done(error);
  }

  private send(): void {
    // The consumer owns the chunk from here (the compressor gives it back to the pool once copied).
    if (!this.push(this.chunk)) this.full = true;
    this.chunk = this.pool.take(this.pool.chunkSize);
    this.filled = 0;
  }
}
