import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import type { ShardManifest } from './manifest.js';
import { problem, type ShardProblem } from './problem.js';

/** Sidecars are a few KiB; anything far bigger is not one of ours and is not read into memory. */
const SMALL_OBJECT_LIMIT = 16 * 1024 * 1024;

/** The whole object as UTF-8 text; refuses objects larger than `limit` bytes. */
export async function readSmallObject(
  dest: Destination,
  key: string,
  limit = SMALL_OBJECT_LIMIT,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await dest.get(key)) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`${key} is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Byte count and sha256 of a stored object as it is read, checked against the sidecar. */
export class ObjectDigest {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private hex?: string;

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }

  /** Problems found comparing what was read with `manifest.object.size` and `manifest.checksum`. */
  problems(manifest: ShardManifest): ShardProblem[] {
    this.hex ??= this.hash.digest('hex');
    const found: ShardProblem[] = [];
    const name = manifest.object.name;
    if (this.bytes !== manifest.object.size) {
      found.push(
        problem(
          name,
          'OBJECT_SIZE',
          `stored object is ${this.bytes} bytes, the sidecar manifest says ${manifest.object.size}`,
        ),
      );
    }
    if (`sha256:${this.hex}` !== manifest.checksum) {
      found.push(
        problem(
          name,
          'OBJECT_CHECKSUM',
          `stored object checksum sha256:${this.hex} does not match the sidecar's ${manifest.checksum}`,
        ),
      );
    }
    return found;
  }
}

export interface PumpOptions {
  /** Called after each chunk with the bytes read so far. */
  onChunk?: (bytesRead: number) => void;
  /**
   * Once the sink has failed, whether to read the rest of the object anyway, only
   * to digest it: the object's checksum then tells a damaged copy from, say, a
   * wrong key. Without it, reading stops where the sink failed.
   */
  readOnAfter?: (sinkError: unknown) => boolean;
}

/**
 * Reads `source` into `digest`, writing every chunk to `sink` (the head of the
 * decompress/untar chain whose completion is `chain`) with backpressure, until
 * the source ends or the sink fails (see PumpOptions.readOnAfter). Resolves with
 * the chain's failure, if any; rejects when reading the source itself fails.
 */
export async function pump(
  source: Readable,
  digest: ObjectDigest,
  sink: Writable,
  chain: Promise<unknown>,
  options: PumpOptions = {},
): Promise<{ sinkError?: unknown }> {
  let failure: { error: unknown } | undefined;
  const settled = chain.then(
    () => undefined,
    (error: unknown) => {
      failure = { error };
    },
  );
  const sinkOpen = () => failure === undefined && !sink.destroyed;
  try {
    for await (const chunk of coalesce(source, CHUNK)) {
      digest.update(chunk);
      options.onChunk?.(digest.bytes);
      if (sinkOpen()) {
        if (!sink.write(chunk)) await Promise.race([once(sink, 'drain').catch(() => undefined), settled]);
        continue;
      }
      if (!options.readOnAfter) break;
      // A destroyed sink fails its chain soon after: its error decides.
      await settled;
      if (!options.readOnAfter(failure?.error)) break;
    }
  } catch (error) {
    sink.destroy(error as Error);
    await settled;
    throw error;
  }
  if (sinkOpen()) sink.end();
  await settled;
  return failure ? { sinkError: failure.error } : {};
}

/** Stored objects are read in chunks of at least this much: per-chunk work dominates below it. */
const CHUNK = 1 << 20;

/**
 * Joins a stream's chunks into ones of at least `size` bytes. Destinations hand
 * out 16-64 KiB chunks; digesting, decompressing and untarring those one by one
 * made restore about 1.6x slower than with 1 MiB ones (measured on a 242 MB shard).
 */
async function* coalesce(source: AsyncIterable<unknown>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    parts.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= size) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
}

/** Resolves once both have settled; rejects with the first one's failure, else the second's. */
export async function settleBoth(first: Promise<unknown>, second: Promise<unknown>): Promise<void> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}
