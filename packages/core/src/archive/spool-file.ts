import { createHash } from 'node:crypto';
import { close, open, writev } from 'node:fs';
import { Writable } from 'node:stream';
import type { ChunkPool } from './chunk-pool.js';

/**
 * The end of the archive pipeline: writes the stored bytes to a new 0600 file
 * while counting and hashing them (sha256), and gives each chunk back to `pool`
 * once it is on disk, so compressor output buffers are reused instead of left
 * for the garbage collector. Chunks the pool did not lend are simply written.
 */
export class SpoolFile extends Writable {
  private readonly hash = createHash('sha256');
  private fd?: number;
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly pool: ChunkPool,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super({ highWaterMark: 2 * pool.chunkSize });
  }

  override _construct(done: (error?: Error | null) => void): void {
    open(this.path, 'wx', 0o600, (error, fd) => {
      this.fd = fd;
      done(error);
    });
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    done: (error?: Error | null) => void,
  ): void {
    const buffers = chunks.map(({ chunk }) => chunk);
    for (const buffer of buffers) {
      this.hash.update(buffer);
      this.bytes += buffer.length;
    }
    this.writeAll([...buffers], (error) => {
      if (!error) for (const buffer of buffers) this.pool.give(buffer);
      this.onBytes?.(this.bytes);
      done(error);
    });
  }

  override _final(done: (error?: Error | null) => void): void {
    this.closeFile(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.closeFile((closeError) => done(error ?? closeError));
  }

  /** Lowercase hex; call once, after the stream finished. */
  sha256(): string {
    return this.hash.digest('hex');
  }

  /** writev may write less than asked (a signal, a full pipe); carry on from where it stopped. */
  private writeAll(buffers: Buffer[], done: (error: Error | null) => void): void {
    writev(this.fd!, buffers, (error, written) => {
      if (error) {
        done(error);
        return;
      }
      let rest = written;
      while (buffers.length > 0 && rest >= buffers[0]!.length) rest -= buffers.shift()!.length;
      if (buffers.length === 0) done(null);
      else {
        buffers[0] = buffers[0]!.subarray(rest);
        this.writeAll(buffers, done);
      }
    });
  }

  private closeFile(done: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) done();
    else close(fd, (error) => done(error));
  }
}
