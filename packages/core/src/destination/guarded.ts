import type { Readable } from 'node:stream';
import type {
  CheckResult,
  DeleteManyResult,
  Destination,
  ObjectInfo,
  OperationOptions,
  PutOptions,
  TemporaryObject,
} from '@matric-backup/plugin-api';
import { DESTINATION_ERROR_CODES, DestinationError, isDestinationError } from '@matric-backup/plugin-api';
import { abortable } from './abortable.js';
import { bandwidthLimited, Pacer } from './bandwidth.js';
import { checkPuts } from './checked-put.js';
import { assertValidKey } from './keys.js';
import { limited } from './limited.js';
import type { RetryPolicy } from './retry.js';
import { type OnRetry, retrying } from './retrying.js';

export interface GuardOptions {
  /** Given to every operation, and stops each promptly when it fires (the run's interrupt). */
  signal?: AbortSignal;
  /** Retries every operation but put by its error's `retryable`. */
  retry?: { policy: RetryPolicy; onRetry: OnRetry };
  /** At most this many operations at once (the plugin's `capabilities.maxConcurrency`). */
  maxConcurrency?: number;
  /** Bytes per second that put bodies and get streams together may move (the block's `bandwidth_limit`). */
  bandwidthLimit?: number;
}

/**
 * Everything core enforces around a plugin's Destination, composed once here,
 * each a wrapper of the same interface (innermost first):
 * - every put body is counted and hashed against its size and sha256 (checkPuts);
 * - put bodies and get streams move at most bandwidthLimit bytes a second,
 *   paced before the put check so it hashes what the plugin really reads
 *   (bandwidthLimited);
 * - every operation gets the signal and stops when it fires (abortable);
 * - keys are validated before the plugin sees them, and anything it throws
 *   becomes a DestinationError naming the destination, with the original as
 *   `cause` (typed), which is what the retry rule below reads;
 * - at most maxConcurrency operations run at once (limited);
 * - every operation but put is retried while its error is retryable (retrying);
 *   a retry waiting does not hold a concurrency slot.
 * Plugins stay thin; callers see one error type and one set of rules.
 */
export function guardDestination(name: string, plugin: Destination, options: GuardOptions = {}): Destination {
  const checked = checkPuts(plugin);
  const paced =
    options.bandwidthLimit === undefined
      ? checked
      : bandwidthLimited(checked, new Pacer(options.bandwidthLimit));
  let destination = typed(name, options.signal ? abortable(paced, options.signal) : paced);
  if (options.maxConcurrency !== undefined) destination = limited(destination, options.maxConcurrency);
  if (options.retry) {
    destination = retrying(destination, options.retry.policy, options.retry.onRetry, options.signal);
  }
  return destination;
}

function typed(name: string, inner: Destination): Destination {
  let closed: Promise<void> | undefined;
  const innerDeleteMany = inner.deleteMany?.bind(inner);
  const innerListTemporary = inner.listTemporary?.bind(inner);
  const innerDeleteTemporary = inner.deleteTemporary?.bind(inner);
  // async, so an invalid key rejects like any other failure instead of throwing synchronously
  const wrap = async <T>(operation: string, key: string | undefined, run: () => Promise<T>): Promise<T> => {
    if (key !== undefined) assertValidKey(key);
    try {
      return await run();
    } catch (error) {
      throw toDestinationError(error, name, operation, key);
    }
  };

  return {
    put(key: string, body: Readable, options: PutOptions) {
      return wrap('put', key, () => inner.put(key, body, options));
    },
    get(key: string, options?: OperationOptions) {
      return wrap('get', key, () => inner.get(key, options));
    },
    list(prefix = '', options?: OperationOptions) {
      return guardIterable(
        () => {
          assertValidKey(prefix, { allowEmpty: true });
          return inner.list(prefix, options);
        },
        (error) => toDestinationError(error, name, 'list', prefix),
      );
    },
    stat(key: string, options?: OperationOptions): Promise<ObjectInfo | undefined> {
      return wrap('stat', key, () => inner.stat(key, options));
    },
    delete(key: string, options?: OperationOptions) {
      return wrap('delete', key, () => inner.delete(key, options));
    },
    ...(innerDeleteMany && {
      deleteMany(keys: readonly string[], options?: OperationOptions): Promise<DeleteManyResult> {
        return wrap('delete', undefined, async () => {
          for (const key of keys) assertValidKey(key);
          const result = await innerDeleteMany(keys, options);
          for (const failure of result.failed) failure.error.destination ??= name;
          return result;
        });
      },
    }),
    ...(innerListTemporary && {
      listTemporary(options?: OperationOptions) {
        return guardIterable(
          () => innerListTemporary(options),
          (error) => toDestinationError(error, name, 'list', undefined),
        );
      },
    }),
    ...(innerDeleteTemporary && {
      deleteTemporary(temporary: TemporaryObject, options?: OperationOptions) {
        return wrap('delete', undefined, () => innerDeleteTemporary(temporary, options));
      },
    }),
    check(): Promise<CheckResult> {
      return wrap('check', undefined, () => inner.check());
    },
    close() {
      closed ??= wrap('close', undefined, () => inner.close());
      return closed;
    },
    ...(inner.localPath !== undefined && { localPath: inner.localPath }),
  };
}

async function* guardIterable<T>(
  source: () => AsyncIterable<T>,
  mapError: (error: unknown) => Error,
): AsyncIterable<T> {
  try {
    yield* source();
  } catch (error) {
    throw mapError(error);
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(DESTINATION_ERROR_CODES);

export function toDestinationError(
  error: unknown,
  destination: string,
  operation: string,
  key?: string,
): DestinationError {
  if (isDestinationError(error)) {
    // A plugin built against a newer SDK may throw a code this core does not know yet.
    if (!KNOWN_CODES.has(error.code)) {
      return new DestinationError('UNKNOWN', `${operation} failed: ${error.code}: ${error.message}`, {
        cause: error,
        destination,
        retryable: error.retryable,
        hint: error.hint,
      });
    }
    error.destination ??= destination;
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  const where = key ? ` ${JSON.stringify(key)}` : '';
  if (code === 'ABORT_ERR' || (error as Error)?.name === 'AbortError') {
    return new DestinationError('ABORTED', `${operation}${where} aborted`, {
      cause: error,
      destination,
      retryable: false,
    });
  }
  return new DestinationError('UNKNOWN', `${operation}${where} failed: ${message}`, {
    cause: error,
    destination,
    retryable: true,
  });
}
