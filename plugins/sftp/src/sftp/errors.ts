import { DestinationError, isDestinationError } from '@matric-backup/plugin-api';

/** SFTP status codes (draft-ietf-secsh-filexfer; 14 and 15 from later drafts some servers send). */
const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  NO_SPACE_ON_FILESYSTEM: 14,
  QUOTA_EXCEEDED: 15,
} as const;

type SshError = Error & { level?: string; code?: string | number };

/** Where we were connecting to, for messages: `user@host:port`. */
export function connectError(error: unknown, where: string): DestinationError {
  if (isDestinationError(error)) return error;
  const err = error as SshError;
  const message = err?.message ?? String(error);
  switch (err?.level) {
    case 'client-authentication':
      return new DestinationError('AUTH_FAILED', `authentication as ${where} failed: ${message}`, {
        cause: error,
        retryable: false,
        hint: 'Check username, ssh_key (and passphrase) or password, and that the key is in the server\u2019s authorized_keys.',
      });
    case 'agent':
      return new DestinationError(
        'AUTH_FAILED',
        `ssh agent failed while authenticating as ${where}: ${message}`,
        {
          cause: error,
          retryable: false,
        },
      );
    case 'client-timeout':
      return new DestinationError('UNREACHABLE', `timed out connecting to ${where}: ${message}`, {
        cause: error,
        retryable: true,
      });
    default:
      return new DestinationError(
        'UNREACHABLE',
        `cannot connect to ${where}: ${err?.code ? `${err.code} ` : ''}${message}`,
        {
          cause: error,
          retryable: true,
        },
      );
  }
}

/** Errors parsing ssh_key are thrown synchronously by ssh2 before any network traffic. */
export function privateKeyError(error: unknown, keyPath: string): DestinationError {
  const message = (error as Error)?.message ?? String(error);
  if (/no passphrase given/i.test(message)) {
    return new DestinationError(
      'CONFIG',
      `ssh_key ${keyPath} is encrypted: set passphrase (or passphrase_file)`,
      {
        cause: error,
        retryable: false,
      },
    );
  }
  if (/bad passphrase|decrypt/i.test(message)) {
    return new DestinationError('AUTH_FAILED', `cannot decrypt ssh_key ${keyPath}: wrong passphrase`, {
      cause: error,
      retryable: false,
    });
  }
  return new DestinationError('CONFIG', `cannot use ssh_key ${keyPath}: ${message}`, {
    cause: error,
    retryable: false,
  });
}

/**
 * Maps an SFTP status (or a lost connection) to the contract's codes. `connectionLost`
 * is true when the SSH connection closed under the request: ssh2 then fails pending
 * requests with a generic error that carries no status code.
 */
export function sftpError(
  error: unknown,
  operation: string,
  path: string,
  connectionLost = false,
): DestinationError {
  if (isDestinationError(error)) return error;
  const err = error as SshError;
  const message = `${operation} ${path}: ${err?.message ?? String(error)}`;
  const options = { cause: error };
  switch (err?.code) {
    case SFTP_STATUS.NO_SUCH_FILE:
      return new DestinationError('NOT_FOUND', message, { ...options, retryable: false });
    case SFTP_STATUS.PERMISSION_DENIED:
      return new DestinationError('PERMISSION_DENIED', message, { ...options, retryable: false });
    case SFTP_STATUS.NO_SPACE_ON_FILESYSTEM:
    case SFTP_STATUS.QUOTA_EXCEEDED:
      return new DestinationError('NO_SPACE', message, { ...options, retryable: false });
    case SFTP_STATUS.NO_CONNECTION:
    case SFTP_STATUS.CONNECTION_LOST:
      return new DestinationError('UNREACHABLE', message, { ...options, retryable: true });
  }
  if (connectionLost) {
    return new DestinationError('UNREACHABLE', `${message} (connection to the server was lost)`, {
      ...options,
      retryable: true,
    });
  }
  return new DestinationError('UNKNOWN', message, { ...options, retryable: true });
}
