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
  /** Mode, mtime and size are taken from the opened file, so they match the bytes archived. */
  | { type: 'file'; path: string; absolute: string };

/** Receives a non-fatal problem (a skipped socket, a file that changed while read). */
export type WarningSink = (message: string) => void;
