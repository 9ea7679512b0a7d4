import { setTimeout as sleep } from 'node:timers/promises';
import { isDestinationError } from '@matric-backup/plugin-api';
import pRetry from 'p-retry';
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

/**
 * Runs `operation` until it succeeds, retrying only DestinationErrors marked
 * retryable. p-retry drives the attempts; the waiting is done here so the exact
 * delay can be reported before it starts.
 */
export function withRetries<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  onRetry: (notice: RetryNotice) => void,
): Promise<T> {
  return pRetry(operation, {
    retries: policy.retries,
    minTimeout: 0,
    maxTimeout: 0,
    shouldRetry: async ({ error, attemptNumber, retriesConsumed }) => {
      // An interrupted process stops: nothing is retried, and a pending wait ends at once.
      if (!isDestinationError(error) || !error.retryable || interruptSignal.aborted) return false;
      const delayMs = backoffDelay(policy, retriesConsumed);
      onRetry({ attempt: attemptNumber, delayMs, error });
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: interruptSignal }).catch(() => undefined);
      return !interruptSignal.aborted;
    },
  });
}
