import { DestinationError, type DestinationErrorCode } from '@matric-backup/plugin-api';

const CODES: Record<string, { code: DestinationErrorCode; what: string; hint?: string }> = {
  ENOENT: { code: 'NOT_FOUND', what: 'does not exist' },
  EACCES: {
    code: 'PERMISSION_DENIED',
    what: 'permission denied',
    hint: 'check the owner and mode of the folder',
  },
  EPERM: {
    code: 'PERMISSION_DENIED',
    what: 'operation not permitted',
    hint: 'check the owner and mode of the folder',
  },
  EROFS: {
    code: 'PERMISSION_DENIED',
    what: 'read-only filesystem',
    hint: 'mount the destination read-write',
  },
  ENOSPC: { code: 'NO_SPACE', what: 'no space left on device', hint: 'free space or point path elsewhere' },
  EDQUOT: { code: 'NO_SPACE', what: 'disk quota exceeded', hint: 'free space or raise the quota' },
  ENOTDIR: { code: 'CONFIG', what: 'a file stands where a folder is needed' },
  EISDIR: { code: 'CONFIG', what: 'a folder stands where a file is needed' },
  EEXIST: { code: 'CONFIG', what: 'a file stands where a folder is needed' },
};

/** A Node fs error as a DestinationError naming the operation and the path; unknown errnos stay UNKNOWN for core. */
export function fsError(error: unknown, operation: string, path: string): unknown {
  const errno = (error as NodeJS.ErrnoException)?.code;
  const known = errno ? CODES[errno] : undefined;
  if (!known) return error;
  return new DestinationError(known.code, `${operation} ${path}: ${known.what} (${errno})`, {
    cause: error,
    hint: known.hint,
    retryable: false,
  });
}

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException)?.code ?? '');
}
