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
  | { type: 'file'; path: string; absolute: string; open?: string | Buffer; fd?: number };

/** Receives a non-fatal problem (a skipped socket, a file that changed while read). */
export type WarningSink = (message: string) => void;
