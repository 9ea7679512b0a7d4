import { DestinationError, type DestinationErrorCode, isDestinationError } from '../errors.js';

interface Meaning {
  code: DestinationErrorCode;
  what: string;
  hint?: string;
  retryable?: boolean;
}

const PERMISSION_HINT = 'check the owner and mode of the folder';
const NETWORK: Meaning = {
  code: 'UNREACHABLE',
  what: 'the server behind the mount cannot be reached',
  hint: 'check the network and the mount',
  retryable: true,
};

/**
 * What an errno means for a folder of objects. A file where a folder is needed
 * (ENOTDIR, EEXIST from mkdir) or a folder where a file is needed (EISDIR) is
 * CONFIG: the root or a key collides with something that is not ours, and
 * retrying cannot help. Reads never get here for those: to get, stat, list and
 * delete, a path through a file is simply an absent key (see store.ts).
 */
const ERRNOS: Record<string, Meaning> = {
  ENOENT: { code: 'NOT_FOUND', what: 'does not exist' },
  EACCES: { code: 'PERMISSION_DENIED', what: 'permission denied', hint: PERMISSION_HINT },
  EPERM: { code: 'PERMISSION_DENIED', what: 'operation not permitted', hint: PERMISSION_HINT },
  EROFS: {
    code: 'PERMISSION_DENIED',
    what: 'read-only filesystem',
    hint: 'mount the destination read-write',
  },
  ENOSPC: { code: 'NO_SPACE', what: 'no space left on device', hint: 'free space or point path elsewhere' },
  EDQUOT: { code: 'NO_SPACE', what: 'disk quota exceeded', hint: 'free space or raise the quota' },
  ENOTDIR: { code: 'CONFIG', what: 'a file stands where a folder is needed' },
  EEXIST: { code: 'CONFIG', what: 'a file stands where a folder is needed' },
  EISDIR: { code: 'CONFIG', what: 'a folder stands where a file is needed' },
  // What network filesystems (CIFS, NFS) return while their server is away: worth retrying.
  EHOSTDOWN: NETWORK,
  EHOSTUNREACH: NETWORK,
  ENETUNREACH: NETWORK,
  ETIMEDOUT: NETWORK,
  ECONNREFUSED: NETWORK,
  ECONNRESET: NETWORK,
  ECONNABORTED: NETWORK,
};

/**
 * A Node fs error as a DestinationError naming the operation and the path
 * (`write /srv/backups/x: no space left on device (ENOSPC)`). Our own errors and
 * aborts pass through; an errno not listed stays as it is, and core reports it
 * as UNKNOWN (retried).
 */
export function fsError(error: unknown, operation: string, path: string): unknown {
  if (isDestinationError(error)) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const meaning = errno === undefined ? undefined : ERRNOS[errno];
  if (!meaning) return error;
  return new DestinationError(meaning.code, `${operation} ${path}: ${meaning.what} (${errno})`, {
    cause: error,
    hint: meaning.hint,
    retryable: meaning.retryable ?? false,
  });
}

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}
