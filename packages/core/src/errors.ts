/**
 * Every failure core reports is a MatricError with a stable `code`. The CLI maps
 * codes to messages and exit codes in one place (apps/cli/src/exit-codes.ts);
 * nothing else decides an exit code.
 */
export type DestinationErrorCode =
  | 'NOT_FOUND'
  | 'AUTH_FAILED'
  | 'PERMISSION_DENIED'
  | 'NO_SPACE'
  | 'UNREACHABLE'
  | 'INTEGRITY'
  | 'CONFIG'
  | 'INVALID_KEY'
  | 'ABORTED'
  | 'UNKNOWN';

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
  | 'DECRYPT_FAILED';

export interface MatricErrorOptions {
  cause?: unknown;
  /** What the user can do about it, printed under the message. */
  hint?: string;
}

export class MatricError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: MatricErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MatricError';
    this.code = code;
    this.hint = options.hint;
  }
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
  }
}

export function isDestinationError(error: unknown): error is DestinationError {
  return (
    error instanceof DestinationError || (error instanceof MatricError && error.name === 'DestinationError')
  );
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

function formatIssues(issues: ConfigIssue[], file?: string): string {
  const lines = issues.map((issue) => {
    const where = [file, issue.line, issue.column].filter((part) => part !== undefined).join(':');
    return `${where ? `${where}: ` : ''}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
  });
  return lines.length === 1 ? lines[0]! : `invalid configuration:\n  ${lines.join('\n  ')}`;
}
