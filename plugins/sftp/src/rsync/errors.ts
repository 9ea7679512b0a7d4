import { DestinationError, type DestinationErrorCode } from '@matric-backup/plugin-api';
import type { RsyncResult } from './spawn.js';

/**
 * rsync's exit codes are coarse (23 covers both a missing file and a full disk),
 * so the error is classified by the messages rsync, ssh or the daemon printed,
 * most specific first; the exit code decides only what the text does not.
 */
const RULES: Array<{ pattern: RegExp; code: DestinationErrorCode; retryable: boolean; hint?: string }> = [
  {
    pattern:
      /@ERROR: auth failed|Permission denied \((publickey|password|keyboard)|Permission denied, please try again|Too many authentication failures/i,
    code: 'AUTH_FAILED',
    retryable: false,
  },
  {
    pattern: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i,
    code: 'CONFIG',
    retryable: false,
    hint: 'The server presented a host key other than the one verified before the transfer.',
  },
  {
    pattern: /@ERROR: Unknown module/i,
    code: 'CONFIG',
    retryable: false,
    hint: 'Check the module name in target.',
  },
  {
    pattern:
      /rsync: (command )?not found|rsync: No such file or directory|bash: .*rsync.*: command not found/i,
    code: 'CONFIG',
    retryable: false,
    hint: 'Install rsync on the server too (e.g. `apt-get install rsync`).',
  },
  {
    pattern: /Failed to exec ssh/i,
    code: 'CONFIG',
    retryable: false,
    hint: 'rsync over ssh needs the OpenSSH client: e.g. `apt-get install openssh-client`.',
  },
  { pattern: /No space left on device|Disk quota exceeded/i, code: 'NO_SPACE', retryable: false },
  {
    pattern:
      /Permission denied \(13\)|Operation not permitted \(1\)|Read-only file system|module is read only/i,
    code: 'PERMISSION_DENIED',
    retryable: false,
  },
  { pattern: /No such file or directory \(2\)|Not a directory \(20\)/, code: 'NOT_FOUND', retryable: false },
  {
    pattern:
      /Connection refused|Connection timed out|timed out|No route to host|Could not resolve hostname|Name or service not known|Network is unreachable|Connection reset|Broken pipe|connection unexpectedly closed|failed to connect/i,
    code: 'UNREACHABLE',
    retryable: true,
  },
];

/** Exit codes meaning the connection (not a file) failed: socket I/O, protocol stream, timeouts, ssh itself. */
const CONNECTION_EXIT_CODES = new Set([10, 12, 30, 35, 255]);

export function rsyncError(
  result: RsyncResult,
  operation: string,
  where: string,
  program = 'rsync',
): DestinationError {
  const details = summarize(result.stderr);
  const message = `${operation} ${where}: ${program} ${result.code === null ? `killed by ${result.signal}` : `exited with code ${result.code}`}${details ? `: ${details}` : ''}`;
  const rule = RULES.find(({ pattern }) => pattern.test(result.stderr));
  if (rule) return new DestinationError(rule.code, message, { retryable: rule.retryable, hint: rule.hint });
  if (result.code !== null && CONNECTION_EXIT_CODES.has(result.code)) {
    return new DestinationError('UNREACHABLE', message, { retryable: true });
  }
  return new DestinationError('UNKNOWN', message, { retryable: true });
}

/** True when rsync failed only because the path does not exist (exit 23 with ENOENT or ENOTDIR). */
export function isMissingPath(result: RsyncResult): boolean {
  return (
    result.code === 23 &&
    /No such file or directory \(2\)|Not a directory \(20\)/.test(result.stderr) &&
    !/\((13|28)\)/.test(result.stderr)
  );
}

/** The lines that say what went wrong, without rsync's "rsync error: ... at main.c(1234)" trailers. */
function summarize(stderr: string): string {
  return stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !/^rsync error: .* at [\w.]+\(\d+\)/.test(line))
    .slice(-4)
    .join(' | ');
}
