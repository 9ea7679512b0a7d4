import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createCompressStream, createDecompressStream } from '../src/archive/compression.js';

const compress = (data: Buffer) => buffer(Readable.from([data]).pipe(createCompressStream('zstd')));

describe('zstd decompression for restore and verify', () => {
  it('keeps memory flat: a chunk that expands 30,000-fold is decompressed as the reader asks', async () => {
    const expanded = 64 * 1024 * 1024;
    const bomb = await compress(Buffer.alloc(expanded));
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

  it('streams mixed data in 1 MiB chunks to a slow reader, bytes intact', async () => {
    // Stretches that compress well and stretches that do not, so output per input chunk varies wildly.
    const block = randomBytes(4096);
    const parts = Array.from({ length: 96 }, (_, i) =>
      i % 3 === 0
        ? randomBytes(65536)
        : i % 3 === 1
          ? Buffer.alloc(262144, i)
          : Buffer.concat(Array(32).fill(block)),
    );
    const data = Buffer.concat(parts);
    const compressed = await compress(data);
    const chunks = function* () {
      for (let offset = 0; offset < compressed.length; offset += 1 << 20)
        yield compressed.subarray(offset, offset + (1 << 20));
    };
    const hash = createHash('sha256');
    const slowReader = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        setImmediate(callback);
      },
    });

    await pipeline(Readable.from(chunks()), createDecompressStream('zstd'), slowReader);

    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('fails on a truncated stream', async () => {
    const compressed = await compress(randomBytes(300_000));
    const truncated = compressed.subarray(0, compressed.length - 10);
    await expect(buffer(Readable.from([truncated]).pipe(createDecompressStream('zstd')))).rejects.toThrow(
      /ended in the middle of a frame/,
    );
  });
});
