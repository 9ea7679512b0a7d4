import { MatricError } from '@matric-backup/plugin-api';
import type { SourceConfig } from '../config/schema.js';
import { warning } from '../util/warning.js';
import { sourceReadError } from './errors.js';
import type { SourceWarning, SourceWarningCode, WarningSink } from './types.js';

/** A path of a source that is not archived whole, as the walk or the packer met it. */
export interface IncompletePath {
  source: string;
  /** Path inside the archive, `<source>/...`. */
  path: string;
  /** Path on disk, for the printed warning. */
  absolute: string;
}

/**
 * errno codes that belong to one file or folder (it went away, is not ours to
 * read, the disk failed under it): the run goes on without it. Anything else
 * (EMFILE, ENOMEM, ...) is a problem of the whole run and still fails it.
 */
const PER_FILE: Record<string, { code: SourceWarningCode; reason: string }> = {
  ENOENT: { code: 'VANISHED', reason: 'removed while the backup ran' },
  ENOTDIR: { code: 'VANISHED', reason: 'a folder on its path was replaced while the backup ran' },
  ELOOP: { code: 'CHANGED', reason: 'replaced by a symbolic link while the backup ran' },
  EACCES: { code: 'UNREADABLE', reason: 'permission denied' },
  EPERM: { code: 'UNREADABLE', reason: 'operation not permitted' },
  EIO: { code: 'UNREADABLE', reason: 'input/output error' },
  ENXIO: { code: 'UNREADABLE', reason: 'no such device' },
  ESTALE: { code: 'UNREADABLE', reason: 'stale file handle' },
};

/**
 * Collects the paths that cannot be archived whole. With the source's
 * `on_error: warn` (the default) each one is printed as a warning and listed in
 * the manifest, and the run stores the shard and ends "completed with
 * warnings"; with `on_error: fail` the first one fails the run (SOURCE_FAILED),
 * as it fails GNU tar's strict users.
 */
export class SourceProblems {
  readonly list: SourceWarning[] = [];
  private readonly strict: ReadonlySet<string>;

  constructor(
    sources: readonly SourceConfig[],
    /** Prints non-fatal notes; every problem is printed through it too. */
    readonly warn: WarningSink,
  ) {
    this.strict = new Set(
      sources
        .filter((source) => source.type === 'directory' && source.on_error === 'fail')
        .map((s) => s.name),
    );
  }

  /**
   * Reports `error` (an errno error, or a problem found by comparing) met on
   * `where`; throws it as SOURCE_FAILED when it is not a per-file problem or the
   * source is strict.
   */
  report(where: IncompletePath, error: unknown): void {
    const problem = problemOf(error);
    if (!problem || this.strict.has(where.source)) throw sourceReadError(where.source, where.absolute, error);
    this.add(where, problem.code, problem.reason);
  }

  /** A file archived, but not as one consistent read (it changed or shrank meanwhile). */
  changed(where: IncompletePath, reason: string): void {
    if (this.strict.has(where.source)) {
      throw new MatricError('SOURCE_FAILED', `source ${where.source}: ${where.absolute} ${reason}`, {
        hint: 'the source has on_error: fail; run again when the file is quiet, or exclude it',
      });
    }
    this.add(where, 'CHANGED', reason);
  }

  private add(where: IncompletePath, code: SourceWarningCode, reason: string): void {
    this.list.push({ code, path: where.path, reason });
    this.warn(
      warning(`FILE_${code}`, `source ${where.source}: ${where.absolute}: ${reason} (${code})`, {
        source: where.source,
        path: where.path,
      }),
    );
  }
}

function problemOf(error: unknown): { code: SourceWarningCode; reason: string } | undefined {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code ? PER_FILE[code] : undefined;
}
