import { DestinationError, type DestinationErrorCode, isDestinationError } from '@matric-backup/plugin-api';

// One table from your store's failures to the codes matric-backup understands.
const CODE_OF_ERRNO: Record<string, DestinationErrorCode> = {
  ENOENT: 'NOT_FOUND',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EROFS: 'PERMISSION_DENIED',
  ENOSPC: 'NO_SPACE',
  EDQUOT: 'NO_SPACE',
  ENOTDIR: 'CONFIG',
  EISDIR: 'CONFIG',
};

/**
 * Any failure as a DestinationError saying what failed and where, the original as `cause`.
 * An AbortError stays as it is: matric-backup reports it as ABORTED.
 */
export function storeError(error: unknown, action: string, where: string): Error {
  if (isDestinationError(error) || (error as Error)?.name === 'AbortError') return error as Error;
  const errno = (error as NodeJS.ErrnoException)?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  return new DestinationError(CODE_OF_ERRNO[errno] ?? 'UNKNOWN', `${action} ${where}: ${message}`, {
    cause: error,
  });
}
