import { DestinationError, isDestinationError } from '@matric-backup/plugin-api';

export interface ErrorContext {
  bucket: string;
  /** Where the server is, for messages: the configured endpoint or "AWS S3". */
  server: string;
  operation: string;
  /** The full object key in the bucket, when the operation has one. */
  key?: string;
}

const AUTH_ERRORS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'Forbidden',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'CredentialsProviderError',
]);
const AUTH_EXPLANATIONS: Record<string, string> = {
  SignatureDoesNotMatch: 'the secret access key does not match the access key id',
  InvalidAccessKeyId: 'the server does not know this access key id',
  ExpiredToken: 'the session token has expired',
  InvalidToken: 'the session token is not valid',
  CredentialsProviderError:
    'no credentials found: set access_key_id and secret_access_key, a profile, or the AWS_* environment',
};
const BUSY_ERRORS = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeoutException',
]);
const FULL_ERRORS = new Set(['QuotaExceeded', 'XMinioStorageFull', 'StorageFull', 'EntityTooLarge']);
const SETUP_ERRORS = new Set([
  'InvalidBucketName',
  'InvalidStorageClass',
  'KMS.NotFoundException',
  'PermanentRedirect',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/**
 * Turns whatever the SDK threw into a DestinationError with a stable code. Auth
 * failures get a message of our own: the SDK's may quote the request it signed.
 */
export function mapS3Error(error: unknown, context: ErrorContext): DestinationError {
  if (isDestinationError(error)) return error;
  const sdk = (error ?? {}) as SdkErrorShape;
  const name = sdk.name ?? '';
  const status = sdk.$metadata?.httpStatusCode;
  const where = `${context.operation}${context.key ? ` "${context.key}"` : ''} on bucket "${context.bucket}"`;
  const options = { cause: error };

  if (name === 'AbortError' || sdk.code === 'ABORT_ERR') {
    return new DestinationError('ABORTED', `${where} aborted`, { ...options, retryable: false });
  }
  if (name === 'NoSuchBucket' || (context.operation === 'check' && status === 404)) {
    return new DestinationError('CONFIG', `bucket "${context.bucket}" does not exist on ${context.server}`, {
      ...options,
      retryable: false,
      hint: 'create the bucket, or fix `bucket:` (and `endpoint:`/`region:`) in the destination block',
    });
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new DestinationError('NOT_FOUND', `${where}: no such object`, { ...options, retryable: false });
  }
  // If-None-Match: * refused: the key exists (412), or another conditional write of it is under way (409).
  if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412) {
    return new DestinationError('ALREADY_EXISTS', `${where}: the object exists; it was left as it is`, {
      ...options,
      retryable: false,
    });
  }
  if (AUTH_ERRORS.has(name) || status === 401 || status === 403) {
    const reason = name || `HTTP ${status}`;
    const why = AUTH_EXPLANATIONS[reason] ?? 'access denied by the bucket or IAM policy';
    return new DestinationError('AUTH_FAILED', `${context.server} refused ${where}: ${reason} (${why})`, {
      ...options,
      retryable: false,
      hint: 'check access_key_id / secret_access_key (or profile, or the AWS_* environment) and the bucket policy',
    });
  }
  if (name === 'Error' && /region is missing/i.test(sdk.message ?? '')) {
    return new DestinationError('CONFIG', 'no region: set `region:` in the destination block or AWS_REGION', {
      ...options,
      retryable: false,
    });
  }
  if (FULL_ERRORS.has(name)) {
    return new DestinationError('NO_SPACE', `${where}: ${name}`, { ...options, retryable: false });
  }
  if (SETUP_ERRORS.has(name)) {
    return new DestinationError('CONFIG', `${where}: ${name}: ${sdk.message ?? ''}`.trim(), {
      ...options,
      retryable: false,
    });
  }
  if (BUSY_ERRORS.has(name) || (status !== undefined && status >= 500)) {
    return new DestinationError(
      'UNREACHABLE',
      `${context.server} is unavailable (${name || `HTTP ${status}`}) for ${where}`,
      {
        ...options,
        retryable: true,
      },
    );
  }
  const networkCode = networkErrorCode(sdk);
  if (networkCode) {
    return new DestinationError(
      'UNREACHABLE',
      `cannot reach ${context.server} for ${where}: ${networkCode}`,
      {
        ...options,
        retryable: true,
      },
    );
  }
  const detail = sdk.message || name || String(error);
  return new DestinationError('UNKNOWN', `${where} failed: ${detail}`, {
    ...options,
    // A 4xx the server explains will fail again the same way.
    retryable: status === undefined || status >= 500,
  });
}

function networkErrorCode(error: SdkErrorShape): string | undefined {
  if (error.code && NETWORK_CODES.has(error.code)) return error.code;
  // Node reports a failed dual-stack connect as an AggregateError of per-address errors.
  for (const inner of error.errors ?? []) {
    const code = (inner as SdkErrorShape)?.code;
    if (code && NETWORK_CODES.has(code)) return code;
  }
  if (/socket hang up/i.test(error.message ?? '')) return 'connection closed';
  return undefined;
}

/** The server as shown in messages: the endpoint without any user:password part. */
export function describeServer(endpoint: string | undefined): string {
  if (!endpoint) return 'AWS S3';
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return 'the S3 endpoint';
  }
}
