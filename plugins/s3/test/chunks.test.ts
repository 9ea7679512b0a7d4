import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect, test } from 'vitest';
import { fixedSizeParts, PartBuffers, readExactly } from '../src/chunks.js';

const uneven = (data: Buffer) => Readable.from([data.subarray(0, 5), data.subarray(5, 6), data.subarray(6)]);

async function partsOf(data: Buffer, partSize: number): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  // Copies: a part's memory may be reused once given back.
  for await (const part of fixedSizeParts(uneven(data), new PartBuffers(partSize), data.length)) {
    parts.push(Buffer.from(part));
  }
  return parts;
}

test('parts are exactly partSize bytes, the last one shorter, together the whole stream', async () => {
  const data = randomBytes(25);
  expect((await partsOf(data, 10)).map((part) => part.length)).toEqual([10, 10, 5]);
  expect(Buffer.concat(await partsOf(data, 10)).equals(data)).toBe(true);
  expect((await partsOf(randomBytes(30), 10)).map((part) => part.length)).toEqual([10, 10, 10]);
});

test('an empty stream is an empty object', async () => {
  expect(await partsOf(Buffer.alloc(0), 10)).toEqual([]);
  expect((await readExactly(Readable.from([]), 0)).length).toBe(0);
});

test('a buffer given back is reused for a later part', () => {
  const buffers = new PartBuffers(1024 * 1024);
  const first = buffers.take();
  buffers.give(first.subarray(0, 4));
  const again = buffers.take();
  expect(again.buffer).toBe(first.buffer);
  expect([again.byteOffset, again.length]).toEqual([first.byteOffset, first.length]);
  expect(buffers.take().buffer).not.toBe(first.buffer);
});
