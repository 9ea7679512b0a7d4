import type { Readable } from 'node:stream';
import type {
  CheckResult,
  DeleteManyResult,
  Destination,
  ObjectInfo,
  PutOptions,
  TemporaryObject,
} from '@matric-backup/plugin-api';
import { DESTINATION_ERROR_CODES, DestinationError, isDestinationError } from '@matric-backup/plugin-api';
import { checkPuts } from './checked-put.js';
import { assertValidKey } from './keys.js';

/**
 * Wraps a plugin's Destination so that keys are validated before the plugin sees
 * them, every put body is checked against its size and sha256 (checkPuts), and
 * anything it throws becomes a DestinationError naming the destination, with the
 * original error as `cause`. Plugins stay thin; callers see one error type.
 */
export function guardDestination(name: string, plugin: Destination): Destination {
  const inner = checkPuts(plugin);
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
    get(key: string) {
      return wrap('get', key, () => inner.get(key));
    },
    list(prefix = '') {
      return guardIterable(
        () => {
          assertValidKey(prefix, { allowEmpty: true });
          return inner.list(prefix);
        },
        (error) => toDestinationError(error, name, 'list', prefix),
      );
    },
    stat(key: string): Promise<ObjectInfo | undefined> {
      return wrap('stat', key, () => inner.stat(key));
    },
    delete(key: string) {
      return wrap('delete', key, () => inner.delete(key));
    },
    ...(innerDeleteMany && {
      deleteMany(keys: readonly string[]): Promise<DeleteManyResult> {
        return wrap('delete', undefined, async () => {
          for (const key of keys) assertValidKey(key);
          const result = await innerDeleteMany(keys);
          for (const failure of result.failed) failure.error.destination ??= name;
          return result;
        });
      },
    }),
    ...(innerListTemporary && {
      listTemporary() {
        return guardIterable(innerListTemporary, (error) =>
          toDestinationError(error, name, 'list', undefined),
        );
      },
    }),
    ...(innerDeleteTemporary && {
      deleteTemporary(temporary: TemporaryObject) {
        return wrap('delete', undefined, () => innerDeleteTemporary(temporary));
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
