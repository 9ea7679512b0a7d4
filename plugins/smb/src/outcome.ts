import { DestinationError } from '@matric-backup/plugin-api';
import { type ErrorContext, errorFromStatus } from './errors.js';
import type { StatusLine } from './output.js';
import type { BatchResult } from './session.js';

/**
 * smbclient carries on after a failed command and its exit code reflects only
 * the last one, so success is judged from the statuses it printed. `expected`
 * says which statuses a batch may produce without failing (e.g. "folder
 * exists" from mkdir).
 */
export type Expected = (status: StatusLine) => boolean;

const nothingExpected: Expected = () => false;

/** mkdir of a folder that is already there. */
export const folderExists: Expected = ({ status, line }) =>
  status === 'NT_STATUS_OBJECT_NAME_COLLISION' && line.includes('making remote directory');

/** The statuses that make this result a failure. */
function problems(result: BatchResult, expected: Expected = nothingExpected): StatusLine[] {
  return result.statuses.filter((status) => !expected(status));
}

/** The DestinationError for a failed batch, or undefined when it succeeded. */
export function failureOf(
  result: BatchResult,
  context: ErrorContext,
  expected: Expected = nothingExpected,
): DestinationError | undefined {
  const [first] = problems(result, expected);
  if (first) return errorFromStatus(first, context);
  if (result.exit) return unexplainedFailure(result, context);
  return undefined;
}

export function assertSucceeded(
  result: BatchResult,
  context: ErrorContext,
  expected: Expected = nothingExpected,
) {
  const failure = failureOf(result, context, expected);
  if (failure) throw failure;
}

/** smbclient ended without naming an NT_STATUS. */
function unexplainedFailure(result: BatchResult, context: ErrorContext): DestinationError {
  const how = result.exit?.signal
    ? `was killed by ${result.exit.signal}`
    : `exited with code ${result.exit?.code}`;
  const said = result.output.trim().split('\n').slice(-3).join(' / ');
  return new DestinationError(
    'UNKNOWN',
    `${context.operation} on ${context.share}: smbclient ${how}${said ? `: ${said}` : ''}`,
    { retryable: true },
  );
}
