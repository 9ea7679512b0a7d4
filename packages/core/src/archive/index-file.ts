import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream } from '../crypto/index.js';
import { ChunkPool } from './chunk-pool.js';
import { SpoolFile } from './spool-file.js';
import type { StoredFormat } from './transforms.js';
import { ZstdCompressStream } from './zstd-compress.js';

/**
 * zstd at this level makes the index about a tenth of its JSON (paths and
 * sha256 digests repeat little but their structure repeats a lot). Level 9
 * made it only 0.7 % smaller for the 969 MB bench dataset (1,411,345 against
 * 1,420,818 bytes) but its larger context raised the run's peak RSS from
 * ~167 MB to ~185 MB, at the very end of the run.
 */
const INDEX_LEVEL = 3;
/**
 * The index's compressed output (~1.4 MB for 30,000 files) goes through a few
 * recycled buffers of this size: with a fresh one per output, 3.4 MB of them
 * were still uncollected once the 4x bench dataset's 5.7 MB index was written,
 * at the run's very end, its peak.
 */
const INDEX_OUTPUT = 256 * 1024;
/** The inner manifest is read in chunks of this size, a couple of them recycled. */
const READ_CHUNK = 64 * 1024;

export interface IndexFile {
  /** The encoded index in the spool folder (0600). */
  file: string;
  /** Size and sha256 of the stored bytes, recorded in the sidecar. */
  size: number;
  sha256: string;
}

/**
 * Encodes the inner manifest file as the shard's index object: the same JSON
 * document the archive ends with, zstd-compressed whatever the archive's
 * compression, then encrypted for the archive's recipients when the archive is,
 * so the index reveals nothing the archive does not.
 */
export async function writeIndexFile(
  manifestFile: string,
  file: string,
  format: StoredFormat,
): Promise<IndexFile> {
  const encryption = format.encryption;
  const encrypt = encryption
    ? [
        await createEncryptStream({
          method: encryption.method,
          recipients: encryption.recipients,
          gpg_homedir: encryption.gpgHomedir,
        }),
      ]
    : [];
  // The manifest's chunks go back to the pool once zstd has copied them: read with a fresh
  // buffer per chunk (as a file read stream does), the 6.7 MB manifest of 30,000 files left as
  // many megabytes of garbage buffers at the run's peak, at its very end.
  const pool = new ChunkPool(READ_CHUNK, 2);
  const output = new ChunkPool(INDEX_OUTPUT, 4);
  const written = new SpoolFile(file, output);
  const handle = await open(manifestFile, 'r');
  try {
    await pipeline([
      Readable.from(readChunks(handle, pool), { objectMode: false, highWaterMark: 1 }),
      // On this thread, not libzstd's workers: the archive's compressor and its workers are still
      // alive when the index is made, and a second multi-threaded context (job buffers and a
      // context per worker) raised the run's peak RSS by ~7 MB for a few milliseconds saved.
      new ZstdCompressStream({
        level: INDEX_LEVEL,
        takeOutput: () => output.take(INDEX_OUTPUT),
        consumed: (chunk) => pool.give(chunk),
      }),
      ...encrypt,
      written,
    ]);
  } finally {
    await handle.close();
  }
  return { file, size: written.bytes, sha256: written.sha256() };
}

/** The file's bytes in the pool's chunks, each to be given back by its reader. */
async function* readChunks(handle: FileHandle, pool: ChunkPool): AsyncGenerator<Buffer> {
  for (let position = 0; ; ) {
    const chunk = pool.take(pool.chunkSize);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield chunk.subarray(0, bytesRead);
  }
}
