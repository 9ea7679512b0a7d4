import type { Destination, OperationOptions, TemporaryObject } from '@matric-backup/plugin-api';
import { forward } from './forward.js';
import {
  backoffDelay,
  isRetryable,
  type RetryNotice,
  type RetryPolicy,
  waitToRetry,
  withRetries,
} from './retry.js';

export type OnRetry = (operation: string, notice: RetryNotice) => void;

/**
 * Wraps a Destination (whose errors are already DestinationErrors) so that every
 * operation but put is retried by the error's `retryable`, with the run's
 * backoff: list, verify, restore, prune and id picking then survive an
 * UNREACHABLE blip. A listing is retried only while it has yielded nothing: the
 * caller has acted on what it got, and listings have no resume point every
 * store shares. A get is retried until it returns its stream; a stream that
 * fails later has delivered bytes to its reader and is not restarted. put is
 * left to its caller, the only one who can give the body again
 * (run/upload.ts reads the spool file afresh for each attempt).
 */
export function retrying(
  inner: Destination,
  policy: RetryPolicy,
  onRetry: OnRetry,
  signal?: AbortSignal,
): Destination {
  const again = <T>(operation: string, run: () => Promise<T>) =>
    withRetries(policy, run, (notice) => onRetry(operation, notice), signal);
  const { deleteMany, listTemporary, deleteTemporary } = inner;
  return {
    ...forward(inner),
    get: (key, options) => again(`get ${JSON.stringify(key)}`, () => inner.get(key, options)),
    list: (prefix = '', options) =>
      retriedListing(`list ${JSON.stringify(prefix)}`, () => inner.list(prefix, options)),
    stat: (key, options) => again(`stat ${JSON.stringify(key)}`, () => inner.stat(key, options)),
    delete: (key, options) => again(`delete ${JSON.stringify(key)}`, () => inner.delete(key, options)),
    ...(deleteMany && {
      deleteMany: (keys: readonly string[], options?: OperationOptions) =>
        again(`delete ${keys.length} objects`, () => deleteMany.call(inner, keys, options)),
    }),
    ...(listTemporary && {
      listTemporary: (options?: OperationOptions) =>
        retriedListing('list temporary objects', () => listTemporary.call(inner, options)),
    }),
    ...(deleteTemporary && {
      deleteTemporary: (temporary: TemporaryObject, options?: OperationOptions) =>
        again(`delete temporary ${JSON.stringify(temporary.name)}`, () =>
          deleteTemporary.call(inner, temporary, options),
        ),
    }),
  };

  async function* retriedListing<T>(operation: string, open: () => AsyncIterable<T>): AsyncIterable<T> {
    let delivered = false;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const item of open()) {
          delivered = true;
          yield item;
        }
        return;
      } catch (error) {
        const retryIndex = attempt - 1;
        if (delivered || retryIndex >= policy.retries || !isRetryable(error, signal)) throw error;
        const notice = { attempt, delayMs: backoffDelay(policy, retryIndex), error };
        if (!(await waitToRetry(notice, (n) => onRetry(operation, n), signal))) throw error;
      }
    }
  }
}
