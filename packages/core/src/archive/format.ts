import type { SourceOrigin, SourceWarning } from '../sources/types.js';

/**
 * The archive's format: what the inner manifest (`manifest.json`, the
 * archive's last entry) holds, and the compression it may be stored with.
 */

export const MANIFEST_VERSION = '1.0.0';
export const INNER_MANIFEST_NAME = 'manifest.json';

/**
 * Where an incremental shard stores the bytes a file gained when it only grew
 * (InnerManifestEntry.append): the tar entry `.matric-appended/<path>`. Source
 * names start with a letter or digit, so no source folder has this name, and
 * extracting a shard by hand puts these beside the sources, never over a file.
 */
export const APPENDED_FOLDER = '.matric-appended';

/** The tar entry name of the bytes appended to archive path `path`. */
export function appendedName(path: string): string {
  return `${APPENDED_FOLDER}/${path}`;
}

/** The archive path a tar entry name holds appended bytes of, or undefined for any other name. */
export function appendedTo(name: string): string | undefined {
  return name.startsWith(`${APPENDED_FOLDER}/`) ? name.slice(APPENDED_FOLDER.length + 1) : undefined;
}

export type CompressionAlgorithm = 'zstd' | 'gzip' | 'none';

/** One entry of the inner manifest (`manifest.json`, the archive's last entry). */
export interface InnerManifestEntry {
  /** Path inside the archive, `<source name>/...`, POSIX, no leading slash. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits, e.g. 0o644. */
  mode: number;
  /** Modification time in milliseconds since the epoch. */
  mtime: number;
  /** Files only. */
  size?: number;
  /** Files only: lowercase hex sha256 of the content. */
  sha256?: string;
  /** Symlinks only. */
  target?: string;
  /**
   * Files only: another name of the file at this archive path (an earlier
   * entry); stored as a tar hard-link entry, restored as a hard link. Size and
   * sha256 are that file's.
   */
  hardlink?: string;
  /**
   * Files of an incremental shard only: the file only grew since the parent
   * shard, whose tree has it with `from` bytes and sha256 `from_sha256`, and
   * this shard stores just the bytes after them, as the tar entry
   * `appendedName(path)`, whose sha256 is `sha256`. `size` and the entry's own
   * `sha256` are the whole file's, as a restore makes it (the earlier content,
   * then these bytes).
   */
  append?: InnerManifestAppend;
  /** Numeric owner and group when archived; restored when a restore keeps owners (as root). */
  uid?: number;
  gid?: number;
  /** Names of uid and gid where the shard was made, when they had one; a restore maps them to local ids. */
  user?: string;
  group?: string;
}

export interface InnerManifestAppend {
  /** Bytes the file had at the parent shard's time: the stored bytes go after them. */
  from: number;
  /** sha256 of those first `from` bytes: the file's at the parent shard's time. */
  from_sha256: string;
  /** sha256 of the stored bytes (`size - from` of them). */
  sha256: string;
}

/** A full shard holds the whole tree; an incremental one what changed since its parent. */
export type ShardType = 'full' | 'incremental';

export interface InnerManifest {
  version: string;
  format: 'matric-backup';
  id: string;
  created_at: string;
  /** Absent in shards written before incrementals existed: those are full. */
  type?: ShardType;
  /** Incremental only: id of the shard this one was made against (full or incremental). */
  parent?: string;
  /** Incremental only: id of the full shard at the root of the chain. */
  base?: string;
  /** Source names. */
  sources: string[];
  origins?: SourceOrigin[];
  entries: InnerManifestEntry[];
  /** Paths not archived whole; absent when there were none (and in shards of older versions). */
  warnings?: SourceWarning[];
  /**
   * Incremental only: archive paths (`<source name>/<relative path>`) present at
   * the parent's time and gone now. A removed folder is listed once, not its
   * contents. Restoring removes them after extracting this shard's entries.
   */
  deleted?: string[];
}
