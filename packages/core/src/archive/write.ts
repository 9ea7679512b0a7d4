import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isMatricError, MatricError, makeFolders } from '@matric-backup/plugin-api';
import type { SourceProblems } from '../sources/problems.js';
import type { SourceEntry, SourceOrigin } from '../sources/types.js';
import { ChunkPool } from './chunk-pool.js';
import { type IndexFile, writeIndexFile } from './index-file.js';
import { CHUNK, type PackOptions, type PackStats, packArchive } from './pack.js';
import { SpoolFile } from './spool-file.js';
import { type StoredFormat, storedTransforms } from './transforms.js';

export type WriteArchiveOptions = {
  id: string;
  createdAt: Date;
  sources: string[];
  /** Where each source came from, recorded in the inner manifest. */
  origins?: SourceOrigin[];
  spoolDir: string;
  /** File name of the finished archive in spoolDir, e.g. `<id>.tar.zst`. */
  fileName: string;
  /** File name of the shard's index object in spoolDir (see index-file.ts); none without it. */
  indexFileName?: string;
  /** Compression and encryption of the tar stream. */
  format: StoredFormat;
  problems: SourceProblems;
  /**
   * How many destinations keep a spool file where it is (link it, see spoolKeepers): that many
   * files of the shard are written, past the page cache (see SpoolFile); 0 or none: one file,
   * only read for uploads.
   */
  keptInPlace?: number;
  /** Called often (every file and every MiB) with an object that is refilled for the next call: copy what you keep. */
  onProgress?: (progress: Readonly<PackStats> & { bytesOut: number }) => void;
} & Pick<PackOptions, 'incremental' | 'onArchived'>;

export interface ArchiveResult extends PackStats {
  /** The finished spool file (0600). */
  file: string;
  /**
   * More finished files of the same bytes, one for each further destination that keeps one
   * (`keptInPlace` - 1 of them), undefined for one given up on a disk filling up; none at all
   * where the spool's file system could not take them.
   */
  spares: Array<string | undefined>;
  /** Size and sha256 of the stored bytes, i.e. of the object every destination gets. */
  size: number;
  sha256: string;
  /** The shard's index object, when asked for: its file list, encoded as the archive is (see index-file.ts). */
  index?: IndexFile;
}

/**
 * Archives the entries into `<spoolDir>/<fileName>`: tar -> transforms -> sha256
 * and byte count -> `<fileName>.partial` (0600), renamed once complete, so a
 * spool file without `.partial` is always whole. Everything streams with
 * backpressure; memory does not grow with the data.
 */
export async function writeArchive(
  entries: AsyncIterable<SourceEntry>,
  options: WriteArchiveOptions,
): Promise<ArchiveResult> {
  const {
    id,
    createdAt,
    sources,
    origins,
    spoolDir,
    fileName,
    format,
    problems,
    onProgress,
    incremental,
    onArchived,
  } = options;
  await makeFolders(spoolDir, 0o700).catch((error: unknown) => {
    throw spoolError(spoolDir, error);
  });
  const file = join(spoolDir, fileName);
  const partial = `${file}.partial`;
  const spares = Array.from(
    { length: Math.max(0, (options.keptInPlace ?? 0) - 1) },
    (_, n) => `${file}.spare-${n + 1}`,
  );
  const indexFile = options.indexFileName && join(spoolDir, options.indexFileName);

  // Read buffers and compressor output share one pool: a chunk goes back once copied or written.
  const pool = new ChunkPool(CHUNK, 16);
  const transforms = await storedTransforms(format, pool);
  let packed: Readonly<PackStats> = {
    files: 0,
    hardlinks: 0,
    directories: 0,
    symlinks: 0,
    bytesIn: 0,
  };
  const progress = { ...packed, bytesOut: 0 };
  const spool = new SpoolFile(partial, pool, {
    onBytes: (bytesOut) => onProgress?.({ ...packed, bytesOut }),
    ...(options.keptInPlace && { keptInPlace: { spares: spares.map((spare) => `${spare}.partial`) } }),
  });
  let index: IndexFile | undefined;
  const { tar, done } = packArchive(entries, {
    id,
    createdAt,
    sources,
    origins,
    manifestFile: join(spoolDir, `${id}.inner-manifest.partial`),
    pool,
    problems,
    incremental,
    onArchived,
    ...(indexFile && {
      onManifest: async (manifestFile: string) => {
        index = await writeIndexFile(manifestFile, indexFile, format);
      },
    }),
    onProgress: (stats) => {
      packed = stats;
      if (!onProgress) return;
      // Called for every file: one object, refilled, rather than a new one each time.
      Object.assign(progress, stats);
      progress.bytesOut = spool.bytes;
      onProgress(progress);
    },
  });
  const stored = pipeline([tar, ...transforms, spool]);

  const [packing, storing] = await Promise.allSettled([done, stored]);
  const kept = spool.spares.map((spare) => spare && whole(spare));
  try {
    // A source error is the cause of everything after it; report it rather than the torn stream.
    if (packing.status === 'rejected' && (isMatricError(packing.reason) || storing.status === 'fulfilled')) {
      throw packing.reason;
    }
    if (storing.status === 'rejected') throw spoolError(spoolDir, storing.reason);
    if (packing.status === 'rejected') throw packing.reason;
    await rename(partial, file);
    for (const spare of kept) if (spare) await rename(`${spare}.partial`, spare);
  } catch (error) {
    // A spare that failed to get its name leaves the others named already: every name goes.
    for (const path of [partial, file, ...spares.flatMap((spare) => [spare, `${spare}.partial`])])
      await rm(path, { force: true });
    if (indexFile) await rm(indexFile, { force: true });
    throw error;
  }
  return {
    ...packing.value,
    file,
    spares: kept,
    size: spool.bytes,
    sha256: spool.sha256(),
    ...(index && { index }),
  };
}

/** The name a `.partial` spool file gets once it is whole. */
const whole = (partial: string) => partial.slice(0, -'.partial'.length);

/** A failure after the sources were read: the spool file system, or a compressor/encryptor. */
function spoolError(spoolDir: string, error: unknown): MatricError {
  if (isMatricError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const errno = error as NodeJS.ErrnoException;
  if (!errno?.syscall) return new MatricError('UNKNOWN', `archiving failed: ${message}`, { cause: error });
  return new MatricError(
    errno.code === 'ENOSPC' ? 'NO_SPACE' : 'UNKNOWN',
    `could not write the shard to ${spoolDir}: ${message}`,
    { cause: error, hint: 'backup.spool_dir needs room for one compressed shard, writable by this user' },
  );
}
