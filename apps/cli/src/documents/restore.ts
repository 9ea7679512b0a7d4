import type { PlannedChange, RestoreResult, Warning } from '@matric-backup/core';
import type { RestoreOrigin } from '../operations/restore.js';

/** A restore, as `restore --json` and the API's restore job give it. */
export interface RestoreDocument {
  /** Where the shard was read from: a destination's name, or an archive file. */
  destination?: string;
  file?: string;
  id: string;
  /** An incremental shard: the links it was rebuilt from, base first, itself last. */
  chain?: string[];
  to: string;
  in_place?: boolean;
  dry_run: boolean;
  conflict?: RestoreResult['conflict'];
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
  object_bytes: number;
  duration_ms: number;
  summary: RestoreResult['summary'];
  /** Every planned change of a dry run; only the non-create ones of a restore (a million files stay small). */
  changes: PlannedChange[];
  /** What could not be done as asked: a source left out, a check not made. */
  warnings: Warning[];
}

export function restoreDocument(origin: RestoreOrigin, result: RestoreResult): RestoreDocument {
  return {
    ...origin,
    id: result.id,
    ...(result.chain && { chain: result.chain }),
    to: result.to,
    ...(result.inPlace !== undefined && { in_place: result.inPlace }),
    dry_run: result.dryRun,
    ...(result.conflict !== undefined && { conflict: result.conflict }),
    files: result.files,
    directories: result.directories,
    symlinks: result.symlinks,
    bytes: result.bytes,
    object_bytes: result.objectBytes,
    duration_ms: result.durationMs,
    summary: result.summary,
    changes: result.dryRun ? result.changes : result.changes.filter((change) => change.action !== 'create'),
    warnings: result.warnings,
  };
}
