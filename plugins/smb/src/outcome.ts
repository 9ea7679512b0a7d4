import { DestinationError } from '@matric-backup/core';
import { type ErrorContext, errorFromStatus } from './errors.js';
import type { StatusLine } from './output.js';
import type { SmbclientResult } from './smbclient.js';

/**
 * smbclient runs every command of a `-c` batch even after one failed, and its
 * exit code reflects only the last one, so success is judged from the
 * statuses it printed. `expected` says which statuses a batch may produce
 * without failing (e.g. "folder exists" from mkdir).
 */
export type Expected = (status: StatusLine) => boolean;

export const nothingExpected: Expected = () => false;

/** mkdir of a folder that is already there. */
export const folderExists: Expected = ({ status, line }) =>
  status === 'NT_STATUS_OBJECT_NAME_COLLISION' && line.includes('making remote directory');

/** The statuses that make this result a failure. */
export function problems(result: SmbclientResult, expected: Expected = nothingExpected): StatusLine[] {
  return result.statuses.filter((status) => !expected(status));
}

/** Throws the DestinationError for a failed batch; returns when it succeeded. */
export function assertSucceeded(
  result: SmbclientResult,
  context: ErrorContext,
  expected: Expected = nothingExpected,
) {
  const [first] = problems(result, expected);
  if (first) throw errorFromStatus(first, context);
  if (result.exitCode !== 0 && result.statuses.length === 0) throw unexplainedFailure(result, context);
}

/** smbclient failed without naming an NT_STATUS. */
export function unexplainedFailure(result: SmbclientResult, context: ErrorContext): DestinationError {
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  const said = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-3).join(' / ');
  return new DestinationError(
    'UNKNOWN',
    `${context.operation} on ${context.share}: smbclient ${how}${said ? `: ${said}` : ''}`,
    {
      retryable: true,
    },
  );
}
