/**
 * Part buffers are reused: a fresh multi-MiB allocation per part is freed to the
 * allocator, not the OS, and peak RSS drifts far above what is actually in use.
 */
export class PartBuffers {
  readonly #free: Buffer[] = [];

  constructor(readonly partSize: number) {}

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafe(this.partSize);
  }

  /** Returns a part (or a shorter view of one) once nothing reads it any more. */
  give(part: Buffer): void {
    this.#free.push(Buffer.from(part.buffer, part.byteOffset, this.partSize));
  }
}

/**
 * Cuts a byte stream of `expectedSize` bytes into parts of exactly
 * `buffers.partSize` bytes (the last one shorter), pulling only as fast as the
 * caller consumes. Core's put check ends a short or long body with an error
 * before it ends, so a wrong body never completes an upload.
 */
export async function* fixedSizeParts(
  body: AsyncIterable<Uint8Array | string>,
  buffers: PartBuffers,
  expectedSize: number,
): AsyncGenerator<Buffer> {
  let placed = 0;
  let part = buffers.take().subarray(0, Math.min(buffers.partSize, expectedSize));
  let filled = 0;
  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    // Parts are laid out for `expectedSize` bytes; past that the loop below could place nothing.
    if (part.length === 0 && chunk.length > 0)
      throw new Error(`the body is longer than ${expectedSize} bytes`);
    let offset = 0;
    while (offset < chunk.length) {
      const count = Math.min(part.length - filled, chunk.length - offset);
      part.set(chunk.subarray(offset, offset + count), filled);
      filled += count;
      offset += count;
      if (filled === part.length) {
        placed += filled;
        yield part;
        const left = expectedSize - placed;
        part = left > 0 ? buffers.take().subarray(0, Math.min(buffers.partSize, left)) : Buffer.alloc(0);
        filled = 0;
      }
    }
  }
}

/** The whole stream as one buffer, for objects small enough to send in a single request. */
export async function readExactly(body: AsyncIterable<Uint8Array | string>, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of fixedSizeParts(body, new PartBuffers(Math.max(size, 1)), size)) parts.push(part);
  return parts[0] ?? Buffer.alloc(0);
}
