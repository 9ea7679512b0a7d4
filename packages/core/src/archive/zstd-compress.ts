import { Transform, type TransformCallback } from 'node:stream';
import type { EndDirective } from 'zstd-napi/binding.js';
import { zstdBinding } from './zstd-binding.js';

export interface ZstdCompressOptions {
  level: number;
  /** libzstd worker threads (0 = compress on the calling thread) and their job size. */
  threading?: { nbWorkers: number; jobSize: number };
  /** Output buffers: fills each before pushing it, so the consumer may recycle them. */
  takeOutput: () => Buffer;
  /** Called with each input chunk once libzstd has copied it. */
  consumed?: (chunk: Buffer) => void;
}

/**
 * zstd compression into recyclable output buffers. zstd-napi's CompressStream
 * allocates a fresh 128 KiB buffer for every output it pushes; at a few hundred
 * per second that is garbage V8 does not see (tiny JS objects behind big
 * external memory), so it piled up to tens of MB between collections. Here each
 * output buffer comes from `takeOutput` and is pushed only once full (or at the
 * end), so a sink that gives buffers back keeps the memory to a handful of them.
 */
export class ZstdCompressStream extends Transform {
  private readonly zstd = zstdBinding();
  private readonly cctx = new this.zstd.CCtx();
  private out: Buffer;
  private filled = 0;

  constructor(private readonly options: ZstdCompressOptions) {
    super();
    this.cctx.setParameter(this.zstd.CParameter.compressionLevel, options.level);
    if (options.threading) {
      this.cctx.setParameter(this.zstd.CParameter.nbWorkers, options.threading.nbWorkers);
      this.cctx.setParameter(this.zstd.CParameter.jobSize, options.threading.jobSize);
    }
    this.out = options.takeOutput();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.compress(chunk, this.zstd.EndDirective.continue);
    } catch (error) {
      done(error as Error);
      return;
    }
    this.options.consumed?.(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      this.compress(Buffer.alloc(0), this.zstd.EndDirective.end);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (this.filled > 0) this.push(this.out.subarray(0, this.filled));
    done();
  }

  private compress(input: Buffer, directive: EndDirective): void {
    for (;;) {
      const [remaining, produced, consumed] = this.cctx.compressStream2(
        this.out.subarray(this.filled),
        input,
        directive,
      );
      this.filled += produced;
      input = input.subarray(consumed);
      if (this.filled === this.out.length) {
        this.push(this.out);
        this.out = this.options.takeOutput();
        this.filled = 0;
      }
      // With `continue`, libzstd keeps what it has not flushed; with `end`, go on until the frame is closed.
      if (input.length === 0 && (directive === this.zstd.EndDirective.continue || remaining === 0)) return;
    }
  }
}
