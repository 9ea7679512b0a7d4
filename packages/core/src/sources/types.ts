import type { Warning } from '../util/warning.js';
/**
 * One thing to put into the archive, in archive order. `path` is the POSIX path
 * inside the archive, `<source name>/<relative path>`.
 */
export type SourceEntry =
  | { type: 'directory'; path: string; mode: number; mtimeMs: number; uid?: number; gid?: number }
  | {
      type: 'symlink';
      path: string;
      mode: number;
      mtimeMs: number;
      uid?: number;
      gid?: number;
      target: string;
    }
  /**
   * Mode, mtime and size are taken from the opened file, so they match the
   * bytes archived. A walked file has `open`: a path relative to its folder's
   * open descriptor, valid while the walk waits for the next entry. `fd`: a
   * file already open (a command's spooled output, whose name is gone), read
   * through it and left open. `absolute` only names it in messages.
   */
  | {
      type: 'file';
      path: string;
      absolute: string;
      open?: string | Buffer;
      fd?: number;
      /**
       * Set by an incremental run's change detector: the parent shard's tree has
       * this file with `size` bytes and sha256 `sha256`, and it is bigger now. If
       * its first `size` bytes are still those, only the rest is stored.
       */
      grewFrom?: { size: number; sha256: string };
    };

/** Receives a non-fatal problem (a skipped socket, a file that changed while read). */
export type WarningSink = (warning: Warning) => void;

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
