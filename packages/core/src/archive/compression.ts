import { availableParallelism } from 'node:os';
import { type Duplex, PassThrough, type Transform } from 'node:stream';
import { createGunzip, createGzip, constants as zlibConstants } from 'node:zlib';
import type { ChunkPool } from './chunk-pool.js';
import type { CompressionAlgorithm } from './format.js';
import { ZstdCompressStream } from './zstd-compress.js';
import { ZstdDecompressStream } from './zstd-decompress.js';

/** Levels used when `backup.compression.level` is not set. */
const DEFAULT_COMPRESSION_LEVEL: Readonly<Record<CompressionAlgorithm, number | undefined>> = {
  zstd: 3,
  gzip: 6,
  none: undefined,
};

/** zlib's default chunk is 16 KiB; bigger chunks mean fewer stream callbacks per MiB. */
const GZIP_CHUNK = 256 * 1024;

/**
 * zstd compresses on libzstd's own threads when there is a second core, so
 * reading, tar and hashing on the main thread overlap with it (measured here on
 * 2 cores: about 1.5x the throughput of compressing on the main thread; two
 * workers rather than one: 7.5 s instead of 8.0 s for the 968 MB bench dataset,
 * since the main thread leaves part of a core idle while it waits on reads).
 * 2 MiB jobs keep its buffers small (~30 MB instead of ~100 MB with the default
 * size) at a negligible cost in ratio; the output is the same for any worker count.
 */
const ZSTD_THREADING = availableParallelism() > 1 ? { nbWorkers: 2, jobSize: 2 * 1024 * 1024 } : undefined;

/** Size of the output buffers zstd fills when the caller does not recycle them. */
const ZSTD_OUTPUT = 256 * 1024;

/**
 * A Transform that compresses with `algorithm` (none = bytes pass through
 * unchanged). With a `pool`, zstd gives each input chunk back to it once copied
 * into libzstd, and fills output buffers taken from it, for a sink that gives
 * them back once written (see ChunkPool); other algorithms ignore the pool.
 */
export function createCompressStream(
  algorithm: CompressionAlgorithm,
  level?: number,
  pool?: ChunkPool,
): Transform {
  const effective = level ?? DEFAULT_COMPRESSION_LEVEL[algorithm];
  switch (algorithm) {
    case 'zstd':
      return new ZstdCompressStream({
        level: effective ?? 3,
        threading: ZSTD_THREADING,
        takeOutput: pool ? () => pool.take(pool.chunkSize) : () => Buffer.allocUnsafe(ZSTD_OUTPUT),
        consumed: pool && ((chunk) => pool.give(chunk)),
      });
    case 'gzip':
      return createGzip({
        level: Math.min(effective ?? zlibConstants.Z_DEFAULT_COMPRESSION, 9),
        chunkSize: GZIP_CHUNK,
      });
    case 'none':
      return new PassThrough();
  }
}

/** The inverse of createCompressStream; fails the stream on corrupt or truncated input. */
export function createDecompressStream(algorithm: CompressionAlgorithm): Duplex {
  switch (algorithm) {
    case 'zstd':
      return new ZstdDecompressStream();
    case 'gzip':
      return createGunzip({ chunkSize: GZIP_CHUNK });
    case 'none':
      return new PassThrough();
  }
}
