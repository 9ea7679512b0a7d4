import { type ErrorCode, isDestinationError, isMatricError, type RunSummary } from '@matric-backup/core';

/**
 * The one place that decides how the CLI exits. Core throws a MatricError or
 * returns an outcome (a run's status); only this file turns either into a number.
 */
export const ExitCode = {
  OK: 0,
  /** The run failed, a verify found a mismatch, or something went wrong at runtime. */
  FAILED: 1,
  /** Bad command line, bad config, or a plugin that cannot be loaded. */
  USAGE: 2,
  /** A required destination failed but at least one other has the shard. */
  PARTIAL: 3,
  /** Another run of the same config holds the lock. */
  LOCKED: 4,
  /**
   * Completed with warnings: every required destination has the shard, but some
   * files vanished, could not be read or changed while read (listed in the manifest).
   */
  WARNINGS: 5,
  /** Stopped by Ctrl-C (128 + SIGINT), the shell's convention. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + SIGTERM). */
  TERMINATED: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const EXIT_CODE_OF: Record<ErrorCode, ExitCode> = {
  CONFIG_INVALID: ExitCode.USAGE,
  USAGE: ExitCode.USAGE,
  PLUGIN_LOAD: ExitCode.USAGE,
  PLUGIN_API_VERSION: ExitCode.USAGE,
  LOCKED: ExitCode.LOCKED,
  SOURCE_FAILED: ExitCode.FAILED,
  SHARD_NOT_FOUND: ExitCode.FAILED,
  VERIFY_FAILED: ExitCode.FAILED,
  RESTORE_REFUSED: ExitCode.FAILED,
  DECRYPT_FAILED: ExitCode.FAILED,
  HOOK_FAILED: ExitCode.FAILED,
  NOT_FOUND: ExitCode.FAILED,
  AUTH_FAILED: ExitCode.FAILED,
  PERMISSION_DENIED: ExitCode.FAILED,
  NO_SPACE: ExitCode.FAILED,
  UNREACHABLE: ExitCode.FAILED,
  INTEGRITY: ExitCode.FAILED,
  CONFIG: ExitCode.FAILED,
  ALREADY_EXISTS: ExitCode.FAILED,
  INVALID_KEY: ExitCode.FAILED,
  ABORTED: ExitCode.FAILED,
  UNKNOWN: ExitCode.FAILED,
};

/** Printed under the message when the error carries no hint of its own. */
const DEFAULT_HINT: Partial<Record<ErrorCode, string>> = {
  CONFIG_INVALID: 'fix the file, then run `matric-backup check`',
  USAGE: 'see `matric-backup --help`',
  LOCKED: 'wait for that run to finish; a lock left by a crashed run is taken over once its process is gone',
  SHARD_NOT_FOUND: 'run `matric-backup list` to see the shards each destination holds',
  AUTH_FAILED: 'check the credentials of that destination, then run `matric-backup check`',
  PERMISSION_DENIED: 'check that the destination is writable by this user, then run `matric-backup check`',
  UNREACHABLE: 'check the host, port and network, then run `matric-backup check`',
  NO_SPACE: 'free some space or lower the retention of that destination',
  CONFIG: 'fix that destination block, then run `matric-backup check`',
  ALREADY_EXISTS:
    'another writer stored that key; every config sharing a destination needs its own backup.name (run `matric-backup list` there)',
  DECRYPT_FAILED: 'check that backup.encryption.identity_file holds the key of a recipient of this shard',
};

const EXIT_CODE_OF_RUN: Record<RunSummary['status'], ExitCode> = {
  success: ExitCode.OK,
  warning: ExitCode.WARNINGS,
  partial: ExitCode.PARTIAL,
  failed: ExitCode.FAILED,
};

/** How a backup run that finished (`run`, or one recorded in `history`) exits. */
export function exitCodeOfRun(status: RunSummary['status']): ExitCode {
  return EXIT_CODE_OF_RUN[status];
}

/** What to do about an error: its own hint, else the one its code implies. */
export function hintOf(error: unknown): string | undefined {
  return isMatricError(error) ? (error.hint ?? DEFAULT_HINT[error.code]) : undefined;
}

export function exitCodeOf(error: unknown): ExitCode {
  return isMatricError(error) ? (EXIT_CODE_OF[error.code] ?? ExitCode.FAILED) : ExitCode.FAILED;
}

/**
 * The lines printed on stderr for an error: `error: ...`, then `hint: ...`.
 * Expected (Matric) errors never show a stack; other errors show it only when
 * verbose, because they are bugs or environment problems worth reporting.
 */
export function describeError(error: unknown, verbose: boolean): string {
  if (isMatricError(error)) {
    const where =
      isDestinationError(error) && error.destination ? `destination "${error.destination}": ` : '';
    const lines = [`error: ${where}${error.message}`];
    const hint = hintOf(error);
    if (hint) lines.push(`hint: ${hint}`);
    if (verbose) lines.push(...causeLines(error.cause));
    return lines.join('\n');
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`error: ${message}`];
  if (verbose && error instanceof Error && error.stack) lines.push(error.stack, ...causeLines(error.cause));
  else lines.push('hint: run again with --verbose to see where it happened');
  return lines.join('\n');
}

/** `CODE: message`, for one line in a table or a warning. */
export function briefError(error: unknown): string {
  if (isMatricError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The `{code, message}` of an error, for --json output. */
export function errorRecord(error: unknown): { code: string; message: string } {
  return {
    code: isMatricError(error) ? error.code : 'UNKNOWN',
    message: error instanceof Error ? error.message : String(error),
  };
}

function causeLines(cause: unknown): string[] {
  const lines: string[] = [];
  for (let current = cause; current !== undefined && lines.length < 5; ) {
    if (current instanceof Error) {
      lines.push(`caused by: ${current.stack ?? current.message}`);
      current = current.cause;
    } else {
      lines.push(`caused by: ${String(current)}`);
      break;
    }
  }
  return lines;
}
