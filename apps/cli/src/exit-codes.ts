import {
  type ConfigError,
  type ErrorCode,
  isDestinationError,
  isMatricError,
  type RunSummary,
} from '@matric-backup/core';

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

/** What one of our error codes means to each front end. */
interface CodeMeaning {
  /** How the CLI exits. */
  exit: ExitCode;
  /** The API's HTTP status; without one, 502 for a destination's error and 500 for the rest. */
  http?: number;
  /** The code the API answers with, where its own vocabulary has one; else the code itself. */
  apiCode?: string;
  /** Printed under the message (CLI, mcp) when the error carries no hint of its own. */
  hint?: string;
  /** The API's hint, in place of the error's own: for errors whose hint names a command-line flag. */
  apiHint?: string;
  /** mcp's hint, likewise: it names the tool's input instead of the flag. */
  mcpHint?: string;
}

/**
 * The one table of our error codes: the exit code, the HTTP status and the
 * hint of each, side by side. The CLI (below), the API (serve/api/errors.ts)
 * and mcp (mcp/results.ts) read it; nothing else maps a code.
 */
export const ERROR_CODES: Record<ErrorCode, CodeMeaning> = {
  CONFIG_INVALID: {
    exit: ExitCode.USAGE,
    http: 400,
    apiCode: 'INVALID_PARAMETER',
    hint: 'fix the file, then run `matric-backup check`',
  },
  USAGE: {
    exit: ExitCode.USAGE,
    http: 400,
    apiCode: 'INVALID_PARAMETER',
    hint: 'see `matric-backup --help`',
  },
  PLUGIN_LOAD: { exit: ExitCode.USAGE },
  PLUGIN_API_VERSION: { exit: ExitCode.USAGE },
  HAS_DEPENDENTS: {
    exit: ExitCode.USAGE,
    http: 409,
    hint: 'add --with-dependents to delete them too (see --dry-run first), or keep the shard; `matric-backup prune` keeps chains whole by itself',
    apiHint: 'add ?with_dependents=true to delete them too (they are deleted first), or keep the shard',
    mcpHint:
      'call delete_backup again with with_dependents true to delete them too (see dry_run first), or keep the shard',
  },
  LOCKED: {
    exit: ExitCode.LOCKED,
    http: 409,
    hint: 'wait for that run to finish; a lock left by a crashed run is taken over once its process is gone',
  },
  SOURCE_FAILED: { exit: ExitCode.FAILED },
  SHARD_NOT_FOUND: {
    exit: ExitCode.FAILED,
    http: 404,
    apiCode: 'NOT_FOUND',
    hint: 'run `matric-backup list` to see the shards each destination holds',
  },
  PATH_NOT_FOUND: {
    exit: ExitCode.FAILED,
    http: 404,
    apiCode: 'NOT_FOUND',
    hint: 'run `matric-backup ls ID` to see the paths a shard holds',
  },
  NOT_A_FILE: { exit: ExitCode.USAGE, http: 400, apiCode: 'INVALID_PARAMETER' },
  VERIFY_FAILED: { exit: ExitCode.FAILED, http: 422, apiCode: 'VALIDATION_FAILED' },
  RESTORE_REFUSED: { exit: ExitCode.FAILED, http: 409 },
  DECRYPT_FAILED: {
    exit: ExitCode.FAILED,
    http: 422,
    hint: 'check that backup.encryption.identity_file holds the key of a recipient of this shard',
  },
  HOOK_FAILED: { exit: ExitCode.FAILED },
  NOT_FOUND: { exit: ExitCode.FAILED, http: 404 },
  AUTH_FAILED: {
    exit: ExitCode.FAILED,
    hint: 'check the credentials of that destination, then run `matric-backup check`',
  },
  PERMISSION_DENIED: {
    exit: ExitCode.FAILED,
    hint: 'check that the destination is writable by this user, then run `matric-backup check`',
  },
  NO_SPACE: { exit: ExitCode.FAILED, hint: 'free some space or lower the retention of that destination' },
  UNREACHABLE: {
    exit: ExitCode.FAILED,
    hint: 'check the host, port and network, then run `matric-backup check`',
  },
  INTEGRITY: { exit: ExitCode.FAILED, http: 422, apiCode: 'VALIDATION_FAILED' },
  CONFIG: { exit: ExitCode.FAILED, hint: 'fix that destination block, then run `matric-backup check`' },
  ALREADY_EXISTS: {
    exit: ExitCode.FAILED,
    hint: 'another writer stored that key; every config sharing a destination needs its own backup.name (run `matric-backup list` there)',
  },
  INVALID_KEY: { exit: ExitCode.FAILED },
  ABORTED: { exit: ExitCode.FAILED },
  UNKNOWN: { exit: ExitCode.FAILED },
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
  return isMatricError(error) ? (error.hint ?? ERROR_CODES[error.code]?.hint) : undefined;
}

export function exitCodeOf(error: unknown): ExitCode {
  return isMatricError(error) ? (ERROR_CODES[error.code]?.exit ?? ExitCode.FAILED) : ExitCode.FAILED;
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

/** One entry of a document's `errors` list: what failed, where, and what to do. */
export interface ErrorEntry {
  code: string;
  message: string;
  hint?: string;
  destination?: string;
  /** The config key the problem is in, as `backup.destinations[nas].path`. */
  key_path?: string;
  /** The config file, and the line and column of the key in it. */
  file?: string;
  line?: number;
  column?: number;
}

/**
 * An error as the `errors` list of a --json document: one entry per problem. A config error
 * holds one problem per key (each with its key path and line); anything else is one entry.
 */
export function errorList(error: unknown): ErrorEntry[] {
  const hint = hintOf(error);
  if (isMatricError(error) && error.code === 'CONFIG_INVALID' && isConfigError(error))
    return error.issues.map((issue) => ({
      code: error.code,
      message: issue.message,
      ...(issue.path && { key_path: issue.path }),
      ...(error.file && { file: error.file }),
      ...(issue.line !== undefined && { line: issue.line }),
      ...(issue.column !== undefined && { column: issue.column }),
      ...(hint && { hint }),
    }));
  return [
    {
      ...errorRecord(error),
      ...(hint && { hint }),
      ...(isDestinationError(error) && error.destination ? { destination: error.destination } : {}),
    },
  ];
}

/** A ConfigError from any copy of plugin-api: recognised by its issue list, like the brand. */
function isConfigError(error: unknown): error is ConfigError {
  return Array.isArray((error as { issues?: unknown }).issues) && (error as ConfigError).issues.length > 0;
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
