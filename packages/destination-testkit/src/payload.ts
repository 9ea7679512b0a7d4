import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/** Deterministic pseudo-random content of a given size, streamed so large sizes never sit in memory. */
export interface Payload {
  size: number;
  sha256: string;
  /** A fresh stream of the bytes; call once per put. */
  stream(): Readable;
}

/**
 * AES-CTR keystream seeded by `seed`: incompressible, reproducible, and fast
 * enough that hashing it first and streaming it again costs less than the I/O.
 */
function keystream(seed: string) {
  const key = createHash('sha256').update(`key:${seed}`).digest();
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-256-ctr', key, iv);
}

function* chunks(size: number, seed: string): Generator<Buffer> {
  const cipher = keystream(seed);
  for (let left = size; left > 0; left -= CHUNK) {
    yield cipher.update(ZEROS.subarray(0, Math.min(CHUNK, left)));
  }
}

export function randomPayload(size: number, seed: string): Payload {
  const hash = createHash('sha256');
  for (const chunk of chunks(size, seed)) hash.update(chunk);
  return { size, sha256: hash.digest('hex'), stream: () => Readable.from(chunks(size, seed)) };
}

/** A payload of known small bytes, e.g. a key's own name. */
export function bytesPayload(bytes: Buffer | string): Payload {
  const buffer = Buffer.from(bytes);
  return {
    size: buffer.length,
    sha256: createHash('sha256').update(buffer).digest('hex'),
    // An array, so the buffer is one chunk rather than iterated byte by byte.
    stream: () => Readable.from(buffer.length ? [buffer] : []),
  };
}

/** Size and sha256 of everything a stream yields. */
export async function digest(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * The first `failAt` bytes of `payload`, then whatever `onCut` does: destroy the
 * stream with an error, or leave it hanging (an aborted upload). The remaining
 * bytes are never produced.
 */
export function cutStream(payload: Payload, failAt: number, onCut: (stream: Readable) => void): Readable {
  const source = payload.stream()[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let sent = 0;
  const stream = new Readable({
    async read() {
      if (sent >= failAt) return;
      const { value } = (await source.next()) as IteratorResult<Buffer, undefined>;
      const chunk = value!.subarray(0, failAt - sent);
      sent += chunk.length;
      this.push(chunk);
      // Let the consumer take the bytes already pushed before the cut happens.
      if (sent >= failAt) setImmediate(() => onCut(stream));
    },
  });
  return stream;
}
