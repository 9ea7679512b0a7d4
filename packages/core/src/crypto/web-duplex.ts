import { Duplex, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * Bridges a library that maps a web ReadableStream to another (age-encryption)
 * into one Node Duplex that sits inside `stream.pipeline` with backpressure;
 * an error on either side (a bad MAC near the end) fails the whole chain.
 */
export function webTransformDuplex(
  transform: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>,
  mapError: (error: unknown) => Error,
): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    try {
      const output = await transform(Readable.toWeb(Readable.from(source)) as ReadableStream<Uint8Array>);
      yield* Readable.fromWeb(output as WebReadableStream<Uint8Array>, { highWaterMark: 1 << 20 });
    } catch (error) {
      throw mapError(error);
    }
  });
}
