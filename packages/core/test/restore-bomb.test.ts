import { once } from 'node:events';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { createCompressStream, createDecompressStream } from '../src/archive/compression.js';

describe('decompressing a bomb', () => {
  it('keeps memory flat: a chunk that expands 30,000-fold is decompressed as the reader asks', async () => {
    const expanded = 64 * 1024 * 1024;
    const bomb = await buffer(Readable.from([Buffer.alloc(expanded)]).pipe(createCompressStream('zstd')));
    expect(bomb.length).toBeLessThan(expanded / 10_000);

    const decompress = createDecompressStream('zstd');
    decompress.write(bomb);
    decompress.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Nobody reads yet: only about one output buffer may be waiting, not 64 MiB.
    expect(decompress.readableLength).toBeLessThanOrEqual(1024 * 1024);

    let total = 0;
    decompress.on('data', (chunk: Buffer) => {
      total += chunk.length;
    });
    await once(decompress, 'end');
    expect(total).toBe(expanded);
  });
});
