import { createHash } from 'node:crypto';
import { close, fdatasync, open, writev } from 'node:fs';
import { Writable } from 'node:stream';
import type { ChunkPool } from './chunk-pool.js';

/**
 * Written bytes after which their writeback to the disk is started. The spool
 * file is fsynced where it is stored (a local destination links it): with every
 * byte still dirty at that point, the fsync of the bench dataset's 558 MB shard
 * waited ~0.5 s for the disk at the end of the run. An fdatasync on the thread
 * pool every 32 MiB writes the shard out while the rest is still compressed
 * (the destination's fsync then took ~20 ms instead of 180-250 ms). Only for a
 * spool file a destination keeps: one only read for an upload need never reach the disk.
 */
const WRITEBACK_EVERY = 32 * 1024 * 1024;

/**
 * The end of the archive pipeline: writes the stored bytes to a new 0600 file
 * while counting and hashing them (sha256), and gives each chunk back to `pool`
 * once it is on disk, so compressor output buffers are reused instead of left
 * for the garbage collector. Chunks the pool did not lend are simply written.
 * With `writeback`, written bytes go to the disk as the file grows.
 */
export class SpoolFile extends Writable {
  private readonly hash = createHash('sha256');
  private fd?: number;
  bytes = 0;
  /** Bytes an fdatasync was started for. */
  private flushed = 0;
  private flushing = false;
  /** A failed fdatasync fails the stream: the fsync where the file is stored would not report it again. */
  private flushError: Error | null = null;
  /** Waits for the fdatasync in flight. */
  private afterFlush?: () => void;

  constructor(
    readonly path: string,
    private readonly pool: ChunkPool,
    private readonly onBytes?: (bytes: number) => void,
    /** Write the file out as it grows (see WRITEBACK_EVERY): for a file that is stored where it is. */
    private readonly writeback = false,
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
      if (!error && this.writeback && this.bytes - this.flushed >= WRITEBACK_EVERY) this.startWriteback();
      done(error ?? this.flushError);
    });
  }

  override _final(done: (error?: Error | null) => void): void {
    this.settleWriteback(() => (this.flushError ? done(this.flushError) : this.closeFile(done)));
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // Never close the descriptor under an fdatasync still queued on the thread pool.
    this.settleWriteback(() => this.closeFile((closeError) => done(error ?? closeError)));
  }

  /** Lowercase hex; call once, after the stream finished. */
  sha256(): string {
    return this.hash.digest('hex');
  }

  /** An fdatasync of what is written so far, on the thread pool, unless one is in flight; nothing waits for it. */
  private startWriteback(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.flushed = this.bytes;
    fdatasync(this.fd!, (error) => {
      this.flushing = false;
      this.flushError ??= error;
      this.afterFlush?.();
    });
  }

  private settleWriteback(done: () => void): void {
    if (!this.flushing) done();
    else
      this.afterFlush = () => {
        this.afterFlush = undefined;
        done();
      };
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
