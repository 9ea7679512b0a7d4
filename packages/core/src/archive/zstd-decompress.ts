import { Duplex } from 'node:stream';
import { zstdBinding } from './zstd-binding.js';

/**
 * zstd decompression that honours backpressure inside one input chunk.
 * zstd-napi's DecompressStream pushes everything a chunk expands to at once, and
 * 33 KB of zstd can expand to 1 GiB: a hostile shard would fill memory before any
 * size limit downstream could stop it. This stream decompresses one output
 * buffer at a time, only while the reader wants more, so memory stays at about
 * one buffer whatever the ratio. (A plain Duplex: a Transform resumed from
 * `_read` fights Transform's own callback bookkeeping, and `Duplex.from` with a
 * generator does not settle when destroyed while waiting for input.)
 */
export class ZstdDecompressStream extends Duplex {
  private readonly zstd = zstdBinding();
  private readonly outSize = this.zstd.dStreamOutSize();
  private readonly dctx = new this.zstd.DCtx();
  private inFrame = false;
  /** The reader asked for data and has not been given a buffer since. */
  private wanted = false;
  /** The written chunk still being decompressed, and its write callback. */
  private input?: { rest: Buffer; done: (error?: Error | null) => void };

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.input = { rest: chunk, done };
    this.decompress();
  }

  override _read(): void {
    this.wanted = true;
    this.decompress();
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.inFrame) {
      done(new Error('zstd stream ended in the middle of a frame (truncated?)'));
      return;
    }
    this.push(null);
    done();
  }

  private decompress(): void {
    while (this.wanted && this.input) {
      const input = this.input;
      let produced: number;
      let ret: number;
      const out = Buffer.allocUnsafe(this.outSize);
      try {
        let consumed: number;
        [ret, produced, consumed] = this.dctx.decompressStream(out, input.rest);
        input.rest = input.rest.subarray(consumed);
      } catch (error) {
        this.input = undefined;
        input.done(error as Error);
        return;
      }
      if (produced > 0) this.wanted = this.push(out.subarray(0, produced));
      // All input consumed and nothing more held back in zstd for it: ask for the next chunk.
      if (input.rest.length === 0 && (produced < out.length || ret === 0)) {
        this.inFrame = ret !== 0;
        this.input = undefined;
        input.done();
      }
    }
  }
}
