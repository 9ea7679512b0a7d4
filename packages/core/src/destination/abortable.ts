import type { Readable } from 'node:stream';
import type { Destination, OperationOptions, PutOptions, TemporaryObject } from '@matric-backup/plugin-api';
import { forward } from './forward.js';

/**
 * Wraps a Destination so that every operation gets `signal` (with the caller's
 * own, when it passes one) and stops promptly when it fires: get, stat, delete
 * and deleteMany reject at once, a listing ends at its next item, and a stream
 * from get() is destroyed, even when the plugin ignores the signal. put() is
 * the exception: it is given the signal but awaited to its end, because a plugin
 * removes its temporary object on abort and the interrupted process waits for
 * that before it exits.
 */
export function abortable(inner: Destination, signal: AbortSignal): Destination {
  const withSignal = <O extends OperationOptions>(options: O | undefined): O & { signal: AbortSignal } =>
    ({
      ...options,
      signal: options?.signal ? AbortSignal.any([options.signal, signal]) : signal,
    }) as O & { signal: AbortSignal };
  const { deleteMany, listTemporary, deleteTemporary } = inner;
  return {
    ...forward(inner),
    put: (key: string, body: Readable, options: PutOptions) => inner.put(key, body, withSignal(options)),
    async get(key, options) {
      const merged = withSignal(options);
      const stream = await untilAborted(() => inner.get(key, merged), merged.signal);
      const stop = () => stream.destroy(abortError(merged.signal));
      merged.signal.addEventListener('abort', stop, { once: true });
      stream.once('close', () => merged.signal.removeEventListener('abort', stop));
      return stream;
    },
    list: (prefix, options) => {
      const merged = withSignal(options);
      return untilAbortedEach(() => inner.list(prefix, merged), merged.signal);
    },
    stat: (key, options) => {
      const merged = withSignal(options);
      return untilAborted(() => inner.stat(key, merged), merged.signal);
    },
    delete: (key, options) => {
      const merged = withSignal(options);
      return untilAborted(() => inner.delete(key, merged), merged.signal);
    },
    ...(deleteMany && {
      deleteMany: (keys: readonly string[], options?: OperationOptions) => {
        const merged = withSignal(options);
        return untilAborted(() => deleteMany.call(inner, keys, merged), merged.signal);
      },
    }),
    ...(listTemporary && {
      listTemporary: (options?: OperationOptions) => {
        const merged = withSignal(options);
        return untilAbortedEach(() => listTemporary.call(inner, merged), merged.signal);
      },
    }),
    ...(deleteTemporary && {
      deleteTemporary: (temporary: TemporaryObject, options?: OperationOptions) => {
        const merged = withSignal(options);
        return untilAborted(() => deleteTemporary.call(inner, temporary, merged), merged.signal);
      },
    }),
  };
}

/** The operation's result, or an AbortError as soon as `signal` fires (at once when it already has). */
function untilAborted<T>(operation: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  const running = operation();
  let stop: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(abortError(signal));
    signal.addEventListener('abort', stop, { once: true });
  });
  // A plugin that ignores the signal settles later; nobody waits for it then.
  running.catch(() => undefined);
  return Promise.race([running, aborted]).finally(() => {
    if (stop) signal.removeEventListener('abort', stop);
  });
}

/** The listing's items until `signal` fires; then an AbortError, without waiting for the plugin's next item. */
async function* untilAbortedEach<T>(open: () => AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  if (signal.aborted) throw abortError(signal);
  const iterator = open()[Symbol.asyncIterator]();
  let finished = false;
  try {
    while (true) {
      const next = await untilAborted(() => iterator.next(), signal);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Stopped early (aborted, failed, or the caller broke off): let the plugin release what it holds.
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('the operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
  });
}
