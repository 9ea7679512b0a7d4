/** The codes a Destination may throw; docs/writing-a-plugin.md says when to throw each. */
export const DESTINATION_ERROR_CODES = [
  'NOT_FOUND',
  'AUTH_FAILED',
  'PERMISSION_DENIED',
  'NO_SPACE',
  'UNREACHABLE',
  'INTEGRITY',
  'CONFIG',
  'ALREADY_EXISTS',
  'INVALID_KEY',
  'ABORTED',
  'UNKNOWN',
] as const;
export type DestinationErrorCode = (typeof DESTINATION_ERROR_CODES)[number];

/**
 * Every failure core reports is a MatricError with a stable `code`. The CLI maps
 * codes to messages and exit codes in one place (apps/cli/src/exit-codes.ts);
 * nothing else decides an exit code.
 */
export type ErrorCode =
  | DestinationErrorCode
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'LOCKED'
  | 'SOURCE_FAILED'
  | 'SHARD_NOT_FOUND'
  | 'VERIFY_FAILED'
  | 'RESTORE_REFUSED'
  | 'PLUGIN_LOAD'
  | 'PLUGIN_API_VERSION'
  | 'DECRYPT_FAILED'
  /** A shard that incremental shards are restored through was not deleted alone. */
  | 'HAS_DEPENDENTS'
  /** A `before` hook failed, so the run (or one destination's upload) did not happen. */
  | 'HOOK_FAILED'
  /** A path asked for (`dump`, `ls`) is not in the shard. */
  | 'PATH_NOT_FOUND'
  /** `dump` of a folder or a symbolic link: only a file has bytes to write out. */
  | 'NOT_A_FILE';

export interface MatricErrorOptions {
  cause?: unknown;
  /** What the user can do about it, printed under the message. */
  hint?: string;
}

/**
 * Marks our errors across package copies. A plugin installed next to backup.yaml
 * may bring its own copy of these classes (npm nests one when versions differ),
 * so `instanceof` against the CLI's classes fails for its errors; a registered
 * symbol is the same in every copy. The value says which kind of error it is.
 */
const BRAND: unique symbol = Symbol.for('matric-backup.error') as never;
type ErrorKind = 'matric' | 'destination';

export class MatricError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  declare readonly [BRAND]: ErrorKind;

  constructor(code: ErrorCode, message: string, options: MatricErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MatricError';
    this.code = code;
    this.hint = options.hint;
    brand(this, 'matric');
  }
}

// Not enumerable, so it stays out of JSON output and test snapshots.
function brand(error: Error, kind: ErrorKind): void {
  Object.defineProperty(error, BRAND, {
    value: kind,
    configurable: true,
    enumerable: false,
    writable: false,
  });
}

function kindOf(error: unknown): ErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const kind = (error as { [BRAND]?: unknown })[BRAND];
  return (kind === 'matric' || kind === 'destination') &&
    typeof (error as { code?: unknown }).code === 'string'
    ? kind
    : undefined;
}

/** A MatricError from any copy of this module (core's, the CLI's, a plugin's own). */
export function isMatricError(error: unknown): error is MatricError {
  return kindOf(error) !== undefined;
}

export interface DestinationErrorOptions extends MatricErrorOptions {
  retryable?: boolean;
  /** The destination's configured name; core fills it in when it wraps a plugin. */
  destination?: string;
}

/** Codes that are worth retrying unless the plugin says otherwise. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<DestinationErrorCode> = new Set(['UNREACHABLE', 'UNKNOWN']);

export class DestinationError extends MatricError {
  declare readonly code: DestinationErrorCode;
  readonly retryable: boolean;
  destination?: string;

  constructor(code: DestinationErrorCode, message: string, options: DestinationErrorOptions = {}) {
    super(code, message, options);
    this.name = 'DestinationError';
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.destination = options.destination;
    brand(this, 'destination');
  }
}

/**
 * A DestinationError from any copy of this module: recognised by its brand and
 * code, never by class identity (see BRAND).
 */
export function isDestinationError(error: unknown): error is DestinationError {
  return kindOf(error) === 'destination' && typeof (error as { retryable?: unknown }).retryable === 'boolean';
}

export interface ConfigIssue {
  /** Key path as the user wrote it, e.g. `backup.destinations[1].bucket`. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends MatricError {
  readonly file?: string;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], file?: string, options: MatricErrorOptions = {}) {
    super('CONFIG_INVALID', formatIssues(issues, file), options);
    this.name = 'ConfigError';
    this.file = file;
    this.issues = issues;
  }
}

/** `file:line:column: key.path: message`, the way config errors and warnings are printed. */
export function formatConfigIssue(issue: ConfigIssue, file?: string): string {
  const where = [file, issue.line, issue.column].filter((part) => part !== undefined).join(':');
  return `${where ? `${where}: ` : ''}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

function formatIssues(issues: ConfigIssue[], file?: string): string {
  const lines = issues.map((issue) => formatConfigIssue(issue, file));
  return lines.length === 1 ? lines[0]! : `invalid configuration:\n  ${lines.join('\n  ')}`;
}
