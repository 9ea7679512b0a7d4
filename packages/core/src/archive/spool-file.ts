import { createHash } from 'node:crypto';
import { close, open, writev } from 'node:fs';
import { Writable } from 'node:stream';
import { DirectFiles } from '@matric-backup/plugin-api/fs-store';
import type { ChunkPool } from './chunk-pool.js';

export interface SpoolFileOptions {
  /** Called after each write with the bytes written so far. */
  onBytes?: (bytes: number) => void;
  /**
   * A destination keeps this file where it is (links it): it is written past the page cache,
   * and so are `spares`, more files of the same bytes for further destinations that keep one
   * each (see DirectFiles). Where that cannot be done (no local disk file system) it is written
   * as any other, without spares.
   */
  keptInPlace?: { spares: readonly string[] };
}

/**
 * The end of the archive pipeline: writes the stored bytes to a new 0600 file
 * while counting and hashing them (sha256), and gives each chunk back to `pool`
 * once it is written, so compressor output buffers are reused instead of left
 * for the garbage collector. Chunks the pool did not lend are simply written.
 */
export class SpoolFile extends Writable {
  private readonly hash = createHash('sha256');
  private fd?: number;
  private direct?: DirectFiles;
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly pool: ChunkPool,
    private readonly options: SpoolFileOptions = {},
  ) {
    super({ highWaterMark: 2 * pool.chunkSize });
  }

  /**
   * Once the stream finished, each spare asked for, or undefined for one given up (removed): see
   * DirectFiles. None where the file was written as any other.
   */
  get spares(): Array<string | undefined> {
    const written = this.direct?.paths;
    if (!written) return [];
    return (this.options.keptInPlace?.spares ?? []).map((spare) =>
      written.includes(spare) ? spare : undefined,
    );
  }

  override _construct(done: (error?: Error | null) => void): void {
    const kept = this.options.keptInPlace;
    if (!kept) {
      this.openFile(done);
      return;
    }
    DirectFiles.create([this.path, ...kept.spares]).then((files) => {
      this.direct = files;
      if (files) done();
      else this.openFile(done);
    }, done);
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
    const written = (error: Error | null) => {
      if (!error) for (const buffer of buffers) this.pool.give(buffer);
      this.options.onBytes?.(this.bytes);
      done(error);
    };
    if (this.direct) writeEach(this.direct, buffers).then(() => written(null), written);
    else this.writeAll([...buffers], written);
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.direct) this.direct.end().then(() => done(), done);
    else this.closeFile(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.direct) this.direct.close().then(() => done(error), done);
    else this.closeFile((closeError) => done(error ?? closeError));
  }

  /** Lowercase hex; call once, after the stream finished. */
  sha256(): string {
    return this.hash.digest('hex');
  }

  private openFile(done: (error?: Error | null) => void): void {
    open(this.path, 'wx', 0o600, (error, fd) => {
      this.fd = fd;
      done(error);
    });
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

async function writeEach(files: DirectFiles, buffers: readonly Buffer[]): Promise<void> {
  for (const buffer of buffers) await files.write(buffer);
}
