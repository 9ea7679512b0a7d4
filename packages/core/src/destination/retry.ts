import { setTimeout as sleep } from 'node:timers/promises';
import { isDestinationError } from '@matric-backup/plugin-api';
import type { RetryConfig } from '../config/schema.js';
import { parseDuration } from '../util/duration.js';
import { interruptSignal } from '../util/interrupt.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

export interface RetryNotice {
  /** The attempt that failed, 1 for the first. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export function retryPolicy(config: RetryConfig): RetryPolicy {
  return {
    retries: config.max_retries,
    initialDelayMs: parseDuration(config.initial_delay),
    maxDelayMs: parseDuration(config.max_delay),
    factor: config.backoff_factor,
  };
}

/**
 * Delay before retry number `retryIndex` (0 = the first): the initial delay
 * times factor^index, capped, then jittered into its upper half so that
 * destinations failing together do not retry in lockstep.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retryIndex: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.initialDelayMs * policy.factor ** retryIndex, policy.maxDelayMs);
  return Math.round(base / 2 + (random() * base) / 2);
}

/** Whether `error` may be retried at all: a DestinationError marked retryable, while the process is not stopping. */
export function isRetryable(error: unknown, signal: AbortSignal = interruptSignal): boolean {
  return isDestinationError(error) && error.retryable && !signal.aborted;
}

/**
 * Waits before retry number `retryIndex`, after telling `onRetry` how long;
 * false when no retry is left or `signal` fired (the wait then ends at once).
 */
export async function waitToRetry(
  notice: RetryNotice,
  onRetry: (notice: RetryNotice) => void,
  signal: AbortSignal = interruptSignal,
): Promise<boolean> {
  onRetry(notice);
  if (notice.delayMs > 0) await sleep(notice.delayMs, undefined, { signal }).catch(() => undefined);
  return !signal.aborted;
}

/**
 * Runs `operation` until it succeeds, retrying only retryable DestinationErrors,
 * up to `policy.retries` times. A plain loop rather than p-retry: the delay must
 * be reported before the wait starts and the wait must end on an interrupt,
 * which left p-retry with no timing of its own to do.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  onRetry: (notice: RetryNotice) => void,
  signal: AbortSignal = interruptSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const retryIndex = attempt - 1;
      if (retryIndex >= policy.retries || !isRetryable(error, signal)) throw error;
      const notice = { attempt, delayMs: backoffDelay(policy, retryIndex), error };
      if (!(await waitToRetry(notice, onRetry, signal))) throw error;
    }
  }
}
