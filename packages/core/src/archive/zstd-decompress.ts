import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';

// binding.js re-exports a native addon, so Node's ESM loader sees no named exports: require it.
const binding = createRequire(import.meta.url)(
  'zstd-napi/binding.js',
) as typeof import('zstd-napi/binding.js');

const OUT_SIZE = binding.dStreamOutSize();

/**
 * zstd decompression that honours backpressure inside one input chunk.
 * zstd-napi's DecompressStream pushes everything a chunk expands to at once, and
 * 33 KB of zstd can expand to 1 GiB: a hostile shard would fill memory before any
 * size limit downstream could stop it. This one stops decompressing whenever the
 * reader is full and goes on when it asks for more, so memory stays at about one
 * output buffer whatever the ratio.
 */
export class ZstdDecompressStream extends Transform {
  private readonly dctx = new binding.DCtx();
  private inFrame = false;
  /** Set while a chunk is half decompressed and the reader is full. */
  private pending?: () => void;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.decompress(chunk, done);
  }

  override _read(size: number): void {
    const pending = this.pending;
    if (!pending) {
      super._read(size);
      return;
    }
    this.pending = undefined;
    pending();
  }

  override _flush(done: TransformCallback): void {
    done(this.inFrame ? new Error('zstd stream ended in the middle of a frame (truncated?)') : null);
  }

  private decompress(input: Buffer, done: TransformCallback): void {
    let rest = input;
    try {
      for (;;) {
        const out = Buffer.allocUnsafe(OUT_SIZE);
        const [ret, produced, consumed] = this.dctx.decompressStream(out, rest);
        rest = rest.subarray(consumed);
        // All input consumed and nothing more buffered in zstd for it: this chunk is done.
        if (rest.length === 0 && (produced < out.length || ret === 0)) {
          this.inFrame = ret !== 0;
          if (produced > 0) this.push(out.subarray(0, produced));
          done();
          return;
        }
        if (produced > 0 && !this.push(out.subarray(0, produced))) {
          const remaining = rest;
          this.pending = () => this.decompress(remaining, done);
          return;
        }
      }
    } catch (error) {
      done(error as Error);
    }
  }
}
