import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ReadEntry, Unpack } from 'tar';
import { createDecompressStream } from '../archive/compression.js';
import { ContentsCheck } from '../shard/contents.js';
import { byteLimit, shardLimits } from '../shard/limits.js';
import { INNER_MANIFEST_NAME, type ShardManifest } from '../shard/manifest.js';
import { ObjectDigest, pump } from '../shard/read.js';
import { EntryGuard } from './entry-guard.js';

export interface ExtractOptions {
  /** Whether an archive path is restored (the inner manifest always is). */
  select: (path: string) => boolean;
  onChunk?: (bytesRead: number, filesSeen: number) => void;
}

export interface Extracted {
  digest: ObjectDigest;
  contents: ContentsCheck;
}

/** After a failure, how long to wait for node-tar to finish its pending writes before cleaning up anyway. */
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * Streams `source` (the stored object) through the sha256 digest, the
 * decompressor and node-tar into `dir`. Every entry passes the EntryGuard
 * before anything is written; file contents are hashed on their way to disk.
 * Rejects with RefusedEntry for an unsafe archive, or with the decompressor's
 * or tar parser's error for a damaged one. Resolves or rejects only once
 * node-tar has finished writing, so `dir` can be removed right after.
 */
export async function extractArchive(
  source: Readable,
  manifest: ShardManifest,
  dir: string,
  options: ExtractOptions,
): Promise<Extracted> {
  const limits = shardLimits(manifest);
  const guard = new EntryGuard(limits);
  const contents = new ContentsCheck();
  const digest = new ObjectDigest();
  let filesSeen = 0;
  let failure: Error | undefined;

  const unpack = new Unpack({
    cwd: dir,
    // Any warning (a bad header, a failed write) fails the restore instead of skipping an entry.
    strict: true,
    preserveOwner: false,
    // The input is already decompressed; a zstd magic number inside is not ours to undo.
    zstd: false,
    filter: (_path, entry) => {
      if (failure) return false;
      const readEntry = entry as ReadEntry;
      try {
        const kind = guard.check({
          path: readEntry.path,
          type: readEntry.type,
          size: readEntry.size ?? 0,
          linkpath: readEntry.linkpath,
        });
        if (kind === 'inner-manifest') return true;
        const path = ContentsCheck.normalize(readEntry.path);
        if (!options.select(path)) return false;
        if (kind === 'file') filesSeen++;
        contents.record(path, {
          type: kind,
          tarType: readEntry.type,
          size: readEntry.size ?? 0,
          target: kind === 'symlink' ? readEntry.linkpath : undefined,
        });
        return true;
      } catch (error) {
        failure ??= error as Error;
        return false;
      }
    },
    transform: (entry) => {
      const path = ContentsCheck.normalize(entry.path);
      if (path === INNER_MANIFEST_NAME) return undefined;
      // node-tar pipes the entry through this stream into the file; typed as a ReadEntry, any stream works.
      return hashingTap((sha256, size) => contents.setDigest(path, sha256, size)) as unknown as ReadEntry;
    },
  });

  // `done`: node-tar wrote everything it started ('close'), or gave up ('abort'); it writes nothing after.
  const done = new Promise<void>((resolve) => {
    unpack.once('close', resolve);
    unpack.once('abort', () => resolve());
  });
  // `closed`: like done, but fails at the first error.
  const closed = new Promise<void>((resolve, reject) => {
    done.then(() => (failure ? reject(failure) : resolve()));
    unpack.on('error', (error: Error) => {
      failure ??= error;
      reject(error);
    });
    unpack.on('abort', (error: Error) => {
      failure ??= error;
    });
  });
  closed.catch(() => undefined);
  let ended = false;

  async function feed(tar: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of tar) {
      const more = unpack.write(chunk);
      if (failure) throw failure;
      if (!more) await Promise.race([once(unpack, 'drain').catch(() => undefined), closed]);
      if (failure) throw failure;
    }
    ended = true;
    unpack.end();
    await closed;
    if (failure) throw failure;
  }

  const decompress = createDecompressStream(manifest.compression);
  const chain = pipeline(
    decompress,
    byteLimit(limits.tarBytes, (limit) => `the archive decompresses to more than ${limit} bytes`),
    feed,
  );
  try {
    const { sinkError } = await pump(source, digest, decompress, chain, {
      onChunk: (bytes) => options.onChunk?.(bytes, filesSeen),
      stopOnSinkFailure: true,
    });
    if (sinkError !== undefined) throw failure ?? sinkError;
  } catch (error) {
    // Let node-tar finish the entries it started, so nothing lands in `dir` after it is removed.
    if (!ended) unpack.end();
    await settle(done);
    throw error;
  }
  return { digest, contents };
}

async function settle(done: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((resolve) => {
      timer = setTimeout(resolve, SETTLE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}

function hashingTap(done: (sha256: string, size: number) => void): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      done(hash.digest('hex'), size);
      callback();
    },
  });
}
