import { isDestinationError, isMatricError } from '@matric-backup/core';
import { ERROR_CODES } from '../../exit-codes.js';
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
    // Statuses and API codes come from the one table: shards and jobs that do not exist are
    // NOT_FOUND, a check that found damage VALIDATION_FAILED, bad input INVALID_PARAMETER.
    const meaning = ERROR_CODES[error.code];
    const destination = isDestinationError(error) ? error.destination : undefined;
    const hint = meaning?.apiHint ?? error.hint;
    return {
      status: meaning?.http ?? (isDestinationError(error) ? 502 : 500),
      error: {
        code: meaning?.apiCode ?? error.code,
        message: redact(error.message),
        ...((hint || destination) && {
          details: {
            ...(destination && { destination }),
            ...(hint && { hint: redact(hint) }),
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
