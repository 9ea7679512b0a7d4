import { isDestinationError, isMatricError } from '@matric-backup/core';
import type { JobError, JobStatus } from '../jobs.js';

/** An answer the API decides itself (a busy runner, a refused target): its HTTP status and code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * Core's error codes as HTTP statuses and API codes. Shards and jobs that do not
 * exist are NOT_FOUND, a check that found damage VALIDATION_FAILED, bad input
 * INVALID_PARAMETER; a destination's own failure keeps its code as a 502; the
 * rest keeps its code as a 500.
 */
const BY_CODE: Record<string, { status: number; code?: string }> = {
  SHARD_NOT_FOUND: { status: 404, code: 'NOT_FOUND' },
  NOT_FOUND: { status: 404 },
  VERIFY_FAILED: { status: 422, code: 'VALIDATION_FAILED' },
  INTEGRITY: { status: 422, code: 'VALIDATION_FAILED' },
  USAGE: { status: 400, code: 'INVALID_PARAMETER' },
  CONFIG_INVALID: { status: 400, code: 'INVALID_PARAMETER' },
  LOCKED: { status: 409 },
  RESTORE_REFUSED: { status: 409 },
  DECRYPT_FAILED: { status: 422 },
};

/**
 * The one place an error becomes an API answer: its HTTP status and the
 * `{code, message, details}` of the body. `redact` masks the config's secrets in
 * every message. An error that is not ours is INTERNAL_ERROR.
 */
export function describeApiError(
  error: unknown,
  redact: (text: string) => string,
): { status: number; error: JobError } {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      error: {
        code: error.code,
        message: redact(error.message),
        ...(error.details !== undefined && { details: error.details }),
      },
    };
  }
  const validation = fastifyValidation(error);
  if (validation) {
    const missing = validation.some((issue) => issue.keyword === 'required');
    return {
      status: 400,
      error: {
        code: missing ? 'MISSING_PARAMETER' : 'INVALID_PARAMETER',
        message: redact((error as Error).message),
        details: validation.map((issue) => ({
          path: issue.instancePath || undefined,
          message: issue.message,
          ...(issue.keyword === 'required' && { parameter: issue.params?.missingProperty }),
        })),
      },
    };
  }
  if (isMatricError(error)) {
    const mapped = BY_CODE[error.code] ?? { status: isDestinationError(error) ? 502 : 500 };
    const destination = isDestinationError(error) ? error.destination : undefined;
    return {
      status: mapped.status,
      error: {
        code: mapped.code ?? error.code,
        message: redact(error.message),
        ...((error.hint || destination) && {
          details: {
            ...(destination && { destination }),
            ...(error.hint && { hint: redact(error.hint) }),
          },
        }),
      },
    };
  }
  // Fastify's own refusals of a request (a body that is not JSON, too large, a wrong content type).
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      status,
      error: { code: 'INVALID_REQUEST', message: redact((error as Error).message) },
    };
  }
  return {
    status: 500,
    error: {
      code: 'INTERNAL_ERROR',
      message: 'internal error',
      details: redact(error instanceof Error ? error.message : String(error)),
    },
  };
}

/** How a job that threw ends: a backup that met another run's lock was skipped, not failed. */
export function jobOutcomeOf(
  error: unknown,
  redact: (text: string) => string,
): { status: JobStatus; error: JobError } {
  const described = describeApiError(error, redact);
  return { status: described.error.code === 'LOCKED' ? 'skipped' : 'failed', error: described.error };
}

interface ValidationIssue {
  keyword: string;
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string };
}

function fastifyValidation(error: unknown): ValidationIssue[] | undefined {
  const validation = (error as { validation?: unknown })?.validation;
  return Array.isArray(validation) ? (validation as ValidationIssue[]) : undefined;
}
