import { DestinationError, type DestinationErrorCode } from '@matric-backup/plugin-api';
import type { StatusLine } from './output.js';

/** What an error message says about where it happened; never carries a secret. */
export interface ErrorContext {
  /** `//host/share` */
  share: string;
  username?: string;
  /** `put "key"`, `list`, `check`... */
  operation: string;
}

const AUTH = new Set([
  'NT_STATUS_LOGON_FAILURE',
  'NT_STATUS_WRONG_PASSWORD',
  'NT_STATUS_NO_SUCH_USER',
  'NT_STATUS_ACCOUNT_DISABLED',
  'NT_STATUS_ACCOUNT_LOCKED_OUT',
  'NT_STATUS_ACCOUNT_EXPIRED',
  'NT_STATUS_ACCOUNT_RESTRICTION',
  'NT_STATUS_INVALID_LOGON_HOURS',
  'NT_STATUS_INVALID_WORKSTATION',
  'NT_STATUS_PASSWORD_EXPIRED',
  'NT_STATUS_PASSWORD_MUST_CHANGE',
  'NT_STATUS_LOGON_TYPE_NOT_GRANTED',
]);
const UNREACHABLE = new Set([
  'NT_STATUS_CONNECTION_REFUSED',
  'NT_STATUS_CONNECTION_RESET',
  'NT_STATUS_CONNECTION_DISCONNECTED',
  'NT_STATUS_CONNECTION_ABORTED',
  'NT_STATUS_IO_TIMEOUT',
  'NT_STATUS_HOST_UNREACHABLE',
  'NT_STATUS_NETWORK_UNREACHABLE',
  'NT_STATUS_BAD_NETWORK_PATH',
  'NT_STATUS_NETWORK_NAME_DELETED',
  'NT_STATUS_PIPE_BROKEN',
  'NT_STATUS_PIPE_DISCONNECTED',
  'NT_STATUS_INVALID_NETWORK_RESPONSE',
  'NT_STATUS_USER_SESSION_DELETED',
  'NT_STATUS_NETWORK_SESSION_EXPIRED',
]);
const NOT_FOUND = new Set([
  'NT_STATUS_OBJECT_NAME_NOT_FOUND',
  'NT_STATUS_OBJECT_PATH_NOT_FOUND',
  'NT_STATUS_NO_SUCH_FILE',
  'NT_STATUS_NOT_FOUND',
  'NT_STATUS_NOT_A_DIRECTORY',
  'NT_STATUS_FILE_IS_A_DIRECTORY',
]);
const PERMISSION = new Set([
  'NT_STATUS_ACCESS_DENIED',
  'NT_STATUS_NETWORK_ACCESS_DENIED',
  'NT_STATUS_MEDIA_WRITE_PROTECTED',
  'NT_STATUS_CANNOT_DELETE',
  'NT_STATUS_PRIVILEGE_NOT_HELD',
]);
const NO_SPACE = new Set([
  'NT_STATUS_DISK_FULL',
  'NT_STATUS_QUOTA_EXCEEDED',
  'NT_STATUS_INSUFFICIENT_RESOURCES',
]);

/** Statuses that mean "nothing there", which list/stat/delete treat as an empty answer. */
export function isNotFound(status: string): boolean {
  return NOT_FOUND.has(status) && status !== 'NT_STATUS_FILE_IS_A_DIRECTORY';
}

/** The DestinationError for the first status smbclient reported. */
export function errorFromStatus({ status, line }: StatusLine, context: ErrorContext): DestinationError {
  const { share, operation } = context;
  const make = (code: DestinationErrorCode, message: string, hint?: string, retryable?: boolean) =>
    new DestinationError(code, `${operation} on ${share}: ${message} (${status})`, { hint, retryable });

  // A failed TCP connect reports many statuses (UNSUCCESSFUL for an unknown host, for one).
  if (line.startsWith('do_connect:') || UNREACHABLE.has(status)) {
    return make(
      'UNREACHABLE',
      'cannot reach the SMB server',
      'check the host, the port and the network',
      true,
    );
  }
  if (AUTH.has(status)) {
    const who = context.username ? `user ${JSON.stringify(context.username)}` : 'the configured user';
    return make(
      'AUTH_FAILED',
      `logon failed for ${who}`,
      'check username/password (or credentials_file) and domain',
      false,
    );
  }
  if (status === 'NT_STATUS_BAD_NETWORK_NAME') {
    return make(
      'CONFIG',
      `the server has no share named ${JSON.stringify(share.split('/').pop())}`,
      `list the server's shares with: smbclient -L //${share.split('/')[2]} -U <user>`,
      false,
    );
  }
  if (line.startsWith('protocol negotiation failed')) {
    return make(
      'CONFIG',
      'no SMB dialect in common with the server (smbclient speaks SMB2 and SMB3)',
      'enable SMB2/SMB3 on the server',
      false,
    );
  }
  if (NO_SPACE.has(status)) return make('NO_SPACE', 'the share is full', 'free space on the share', false);
  if (PERMISSION.has(status))
    return make('PERMISSION_DENIED', 'access denied', 'check the share ACLs and file permissions', false);
  if (NOT_FOUND.has(status)) return make('NOT_FOUND', 'not found', undefined, false);
  if (status === 'NT_STATUS_OBJECT_NAME_INVALID')
    return make('INVALID_KEY', 'the server refused the name', undefined, false);
  return make('UNKNOWN', line, undefined, true);
}
