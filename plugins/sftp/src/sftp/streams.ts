import { open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { DestinationError } from '@matric-backup/plugin-api';
import type { RemoteFs } from './remote-fs.js';

/**
 * SFTP is request/response: one outstanding read or write at a time is bound by
 * round trips (ssh2's own streams manage ~20-37 MB/s on loopback). These streams
 * keep `concurrency` requests in flight on one handle, in order, with memory
 * bounded by concurrency x piece size.
 */

/** Under every server's maximum read/write length (OpenSSH: 255 KiB; the SFTP floor: 32 KiB + header). */
const PIECE = 32 * 1024;
const SLAB = 32 * PIECE;

export interface TransferOptions {
  concurrency: number;
  onProgress?: (bytes: number) => void;
}

/**
 * Uploads a local file: `concurrency` workers, each with one reused buffer, read a
 * piece and write it. Unlike a stream of freshly allocated 1 MiB chunks this
 * allocates nothing per piece, which spares most full garbage collections
 * (measured per 512 MiB: 56-114 from a read stream, 5-21 this way). Resolves with
 * the bytes written.
 */
export async function uploadFile(
  fs: RemoteFs,
  handle: Buffer,
  path: string,
  localPath: string,
  options: TransferOptions & { signal?: AbortSignal },
): Promise<number> {
  const file = await open(localPath, 'r');
  try {
    const { size } = await file.stat();
    let next = 0;
    let written = 0;
    let failed = false;
    const worker = async () => {
      const buffer = Buffer.allocUnsafe(PIECE);
      while (next < size && !failed) {
        options.signal?.throwIfAborted();
        const position = next;
        const length = Math.min(PIECE, size - position);
        next += length;
        const { bytesRead } = await file.read(buffer, 0, length, position);
        if (bytesRead !== length) {
          throw new DestinationError('INTEGRITY', `${localPath} shrank while being uploaded`, {
            retryable: true,
          });
        }
        await fs.write(handle, buffer.subarray(0, length), position, path);
        written += length;
        options.onProgress?.(written);
      }
    };
    const workers = Array.from({ length: options.concurrency }, () =>
      worker().catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    );
    await Promise.all(workers);
    return written;
  } finally {
    await file.close();
  }
}

export class SftpWriteStream extends Writable {
  /** Bytes the server acknowledged. */
  bytesWritten = 0;
  private position = 0;
  private inflight = 0;
  private failure: Error | undefined;
  private blocked: ((error?: Error | null) => void) | undefined;
  private finishing: ((error?: Error | null) => void) | undefined;

  constructor(
    private readonly fs: RemoteFs,
    private readonly handle: Buffer,
    private readonly path: string,
    private readonly options: TransferOptions,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure) {
      callback(this.failure);
      return;
    }
    for (let offset = 0; offset < chunk.length; offset += PIECE) {
      this.send(chunk.subarray(offset, offset + PIECE));
    }
    if (this.inflight < this.options.concurrency) callback();
    else this.blocked = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.inflight === 0) callback(this.failure);
    else this.finishing = callback;
  }

  private send(piece: Buffer): void {
    const position = this.position;
    this.position += piece.length;
    this.inflight += 1;
    this.fs.write(this.handle, piece, position, this.path).then(
      () => {
        this.bytesWritten += piece.length;
        this.options.onProgress?.(this.bytesWritten);
        this.settled();
      },
      (error: Error) => {
        this.failure ??= error;
        this.settled();
      },
    );
  }

  private settled(): void {
    this.inflight -= 1;
    if (this.blocked && (this.failure || this.inflight < this.options.concurrency)) {
      const callback = this.blocked;
      this.blocked = undefined;
      callback(this.failure);
    }
    if (this.finishing && this.inflight === 0) {
      const callback = this.finishing;
      this.finishing = undefined;
      callback(this.failure);
    }
  }
}

/** Reads `size` bytes; closes the handle when it ends or is destroyed. */
export class SftpReadStream extends Readable {
  private nextOffset = 0;
  private pushedOffset = 0;
  private inflight = 0;
  private readonly ready = new Map<number, Buffer>();
  /**
   * Reads land in slices of 1 MiB slabs: one allocation per 32 requests instead of
   * one each, which keeps the garbage collector (most of the CPU otherwise) quiet.
   */
  private slab = Buffer.alloc(0);
  private slabUsed = 0;

  constructor(
    private readonly fs: RemoteFs,
    private readonly handle: Buffer,
    private readonly size: number,
    private readonly path: string,
    private readonly options: TransferOptions,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _read(): void {
    if (this.size === 0) {
      this.push(null);
      return;
    }
    this.fill();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.fs.close(this.handle, this.path).then(
      () => callback(error),
      () => callback(error),
    );
  }

  private fill(): void {
    while (this.inflight < this.options.concurrency && this.nextOffset < this.size) {
      const length = Math.min(PIECE, this.size - this.nextOffset);
      this.request(this.nextOffset, length);
      this.nextOffset += length;
    }
  }

  private slice(length: number): Buffer {
    if (this.slabUsed + length > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(SLAB, length));
      this.slabUsed = 0;
    }
    this.slabUsed += length;
    return this.slab.subarray(this.slabUsed - length, this.slabUsed);
  }

  private request(offset: number, length: number): void {
    this.inflight += 1;
    this.fs.read(this.handle, this.slice(length), offset, this.path).then(
      (buffer) => {
        this.inflight -= 1;
        if (this.destroyed) return;
        if (buffer.length === 0) {
          this.destroy(
            new DestinationError(
              'INTEGRITY',
              `${this.path} ended at byte ${offset} of ${this.size}: it changed while being read`,
              {
                retryable: true,
              },
            ),
          );
          return;
        }
        this.ready.set(offset, buffer);
        // Servers may answer with less than asked; ask for the rest.
        if (buffer.length < length) this.request(offset + buffer.length, length - buffer.length);
        this.flush();
      },
      (error: Error) => {
        this.inflight -= 1;
        this.destroy(error);
      },
    );
  }

  private flush(): void {
    let wantsMore = true;
    for (let buffer = this.ready.get(this.pushedOffset); buffer; buffer = this.ready.get(this.pushedOffset)) {
      this.ready.delete(this.pushedOffset);
      this.pushedOffset += buffer.length;
      wantsMore = this.push(buffer);
    }
    if (this.pushedOffset === this.size) this.push(null);
    else if (wantsMore) this.fill();
  }
}
