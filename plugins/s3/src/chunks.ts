import { DestinationError } from '@matric-backup/core';

/**
 * Cuts a byte stream into buffers of exactly `partSize` (the last one shorter),
 * pulling only as fast as the caller consumes, and checks that the stream holds
 * exactly `expectedSize` bytes: a short or long stream must never be stored.
 */
export async function* fixedSizeParts(
  body: AsyncIterable<Uint8Array | string>,
  partSize: number,
  expectedSize: number,
): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(Math.min(partSize, expectedSize));
  let filled = 0;
  let total = 0;
  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > expectedSize) throw sizeMismatch(`more than the announced ${expectedSize} bytes`);
    let offset = 0;
    while (offset < chunk.length) {
      const count = Math.min(part.length - filled, chunk.length - offset);
      part.set(chunk.subarray(offset, offset + count), filled);
      filled += count;
      offset += count;
      if (filled === part.length) {
        yield part;
        part = Buffer.allocUnsafe(Math.min(partSize, expectedSize - total + (chunk.length - offset)));
        filled = 0;
      }
    }
  }
  if (total < expectedSize) throw sizeMismatch(`${total} of the announced ${expectedSize} bytes`);
}

/** The whole stream as one buffer, for objects small enough to send in a single request. */
export async function readExactly(body: AsyncIterable<Uint8Array | string>, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of fixedSizeParts(body, Math.max(size, 1), size)) parts.push(part);
  return parts[0] ?? Buffer.alloc(0);
}

function sizeMismatch(detail: string): DestinationError {
  return new DestinationError('INTEGRITY', `the stream to upload held ${detail}`, { retryable: false });
}
