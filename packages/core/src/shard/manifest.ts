/** Types of the two manifests of a shard. */

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
  /** Numeric owner and group when archived; restored when a restore keeps owners (as root). */
  uid?: number;
  gid?: number;
  /** Names of uid and gid where the shard was made, when they had one; a restore maps them to local ids. */
  user?: string;
  group?: string;
}

/**
 * Where a source came from: its archive folder name, its type and, for a
 * directory source, the absolute path it was read from (where `restore
 * --in-place` puts it back). Absent in shards made before it was recorded.
 */
export interface SourceOrigin {
  name: string;
  type: 'directory' | 'command';
  path?: string;
}

/**
 * Why a path is missing from a shard or stored as it was not at one instant:
 * VANISHED (removed while the backup ran), UNREADABLE (permission denied, I/O
 * error), CHANGED (written to or replaced while read: stored as read).
 */
export type SourceWarningCode = 'VANISHED' | 'UNREADABLE' | 'CHANGED';

/** One path that could not be archived whole; the run went on without it (or with it as read). */
export interface SourceWarning {
  /** A SourceWarningCode; typed as string because a newer version may add codes. */
  code: string;
  /** Path inside the archive, `<source name>/...`. */
  path: string;
  reason: string;
}

export interface InnerManifest {
  version: string;
  format: 'matric-backup';
  id: string;
  created_at: string;
  /** Source names. */
  sources: string[];
  origins?: SourceOrigin[];
  entries: InnerManifestEntry[];
  /** Paths not archived whole; absent when there were none (and in shards of older versions). */
  warnings?: SourceWarning[];
}

/** The sidecar `<id>.manifest.json`, written last: a shard without it is incomplete. */
export interface ShardManifest {
  version: string;
  format: 'matric-backup';
  id: string;
  /** ISO 8601, UTC. */
  created_at: string;
  /** Same instant as created_at. */
  timestamp: string;
  /** `matric-backup/<version>` */
  created_by: string;
  /** Host name, or `backup.source_instance`. */
  source_instance: string;
  /**
   * Which config wrote the shard: `backup.name` (or its default), the writer tag
   * in the id, and a random id of the run, by which a run recognises its own
   * sidecar when it reads it back. Absent in shards written before writers were
   * recorded.
   */
  writer?: ShardWriter;
  type: 'full';
  encryption: null | { method: 'age' | 'gpg'; recipient_count: number };
  compression: CompressionAlgorithm;
  /** Source names. */
  collections: string[];
  /** Each source's type and original path, in config order. */
  origins?: SourceOrigin[];
  counts: {
    /** File entries, hard links included. */
    files: number;
    directories: number;
    symlinks: number;
    sources: number;
    /** File entries that are hard links to an earlier one; absent in shards made before they were kept. */
    hardlinks?: number;
  };
  file_count: number;
  /** Sum of the file sizes before compression. */
  size_bytes: number;
  /** Empty in shards made now; shards of earlier versions may hold the removed `backup.format` options. */
  options: Record<string, unknown>;
  /** The stored archive object: its key relative to the destination's root, size and checksum. */
  object: { name: string; size: number };
  /** `sha256:<hex>` of the stored object. */
  checksum: string;
  /** Paths not archived whole (the run "completed with warnings"); absent when there were none. */
  warnings?: SourceWarning[];
}

export interface ShardWriter {
  name: string;
  tag: string;
  run: string;
}

export const MANIFEST_VERSION = '1.0.0';
export const SIDECAR_SUFFIX = '.manifest.json';
export const INNER_MANIFEST_NAME = 'manifest.json';
