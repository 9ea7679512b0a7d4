import { Readable } from 'node:stream';
import {
  type Destination,
  DestinationError,
  guardDestination,
  type ObjectInfo,
  type OperationOptions,
} from '@matric-backup/core';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { describe, expect, it } from 'vitest';
import type { RetryNotice } from '../src/destination/retry.js';

const noDelay = { retries: 3, initialDelayMs: 0, maxDelayMs: 0, factor: 2 };
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );
const info = (key: string): ObjectInfo => ({ key, size: 1, modified: new Date(0) });
const unreachable = () => new DestinationError('UNREACHABLE', 'connection reset', { retryable: true });

async function collect(listing: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of listing) keys.push(item.key);
  return keys;
}

function withRetries(plugin: Destination) {
  const retries: Array<{ operation: string; attempt: number }> = [];
  const destination = guardDestination('flaky', plugin, {
    retry: {
      policy: noDelay,
      onRetry: (operation: string, { attempt }: RetryNotice) => retries.push({ operation, attempt }),
    },
  });
  return { destination, retries };
}

/** Never settles: what a plugin stuck on a dead connection looks like from outside. */
const never = () => new Promise<never>(() => undefined);

describe('retries (core, around every plugin)', () => {
  it('retries a listing that failed with UNREACHABLE twice before yielding anything', async () => {
    let calls = 0;
    const plugin: Destination = {
      ...memoryDestination(),
      async *list() {
        calls++;
        if (calls <= 2) throw unreachable();
        yield info('a');
        yield info('b');
      },
    };
    const { destination, retries } = withRetries(plugin);
    expect(await collect(destination.list(''))).toEqual(['a', 'b']);
    expect(calls).toBe(3);
    expect(retries).toEqual([
      { operation: 'list ""', attempt: 1 },
      { operation: 'list ""', attempt: 2 },
    ]);
  });

  it('does not restart a listing that failed after yielding: the caller already acted on it', async () => {
    let calls = 0;
    const plugin: Destination = {
      ...memoryDestination(),
      async *list() {
        calls++;
        yield info('a');
        throw unreachable();
      },
    };
    const { destination, retries } = withRetries(plugin);
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const item of destination.list('')) seen.push(item.key);
      })(),
    );
    expect(error).toMatchObject({ code: 'UNREACHABLE', destination: 'flaky' });
    expect(seen).toEqual(['a']);
    expect(calls).toBe(1);
    expect(retries).toEqual([]);
  });

  it('retries get, stat and delete by retryable, gives up after the policy, and never retries put', async () => {
    const memory = memoryDestination();
    await memory.put('k', Readable.from([Buffer.from('x')]), { size: 1, sha256: '' });
    const failuresLeft = { get: 1, stat: 2, delete: 9, put: 1 };
    const flaky = <T>(name: keyof typeof failuresLeft, run: () => Promise<T>) => {
      if (failuresLeft[name]-- > 0) return Promise.reject(unreachable());
      return run();
    };
    const plugin: Destination = {
      ...memory,
      get: (key) => flaky('get', () => memory.get(key)),
      stat: (key) => flaky('stat', () => memory.stat(key)),
      delete: (key) => flaky('delete', () => memory.delete(key)),
      put: (key, body, options) => flaky('put', () => memory.put(key, body, options)),
    };
    const { destination, retries } = withRetries(plugin);
    expect(await destination.get('k')).toBeInstanceOf(Readable);
    expect(await destination.stat('k')).toMatchObject({ size: 1 });
    expect(await failure(destination.delete('k'))).toMatchObject({ code: 'UNREACHABLE' });
    expect(failuresLeft.delete).toBe(5); // 1 attempt + 3 retries
    expect(
      await failure(destination.put('p', Readable.from([Buffer.from('x')]), { size: 1, sha256: '' })),
    ).toMatchObject({ code: 'UNREACHABLE' });
    expect(failuresLeft.put).toBe(0);
    expect(retries.map((retry) => retry.operation)).toEqual([
      'get "k"',
      'stat "k"',
      'stat "k"',
      'delete "k"',
      'delete "k"',
      'delete "k"',
    ]);
  });

  it('does not retry an error that is not retryable', async () => {
    let calls = 0;
    const plugin: Destination = {
      ...memoryDestination(),
      async stat() {
        calls++;
        throw new DestinationError('AUTH_FAILED', 'bad key');
      },
    };
    const { destination } = withRetries(plugin);
    expect(await failure(destination.stat('k'))).toMatchObject({ code: 'AUTH_FAILED' });
    expect(calls).toBe(1);
  });
});

describe('abort (core, around every plugin)', () => {
  it('ends a listing and a stat stuck on a dead connection as soon as the signal fires, and hands the plugin the signal', async () => {
    const received: Array<AbortSignal | undefined> = [];
    const plugin: Destination = {
      ...memoryDestination(),
      async *list(_prefix?: string, options?: OperationOptions) {
        received.push(options?.signal);
        yield info('a');
        await never();
      },
      async stat(_key: string, options?: OperationOptions) {
        received.push(options?.signal);
        return never();
      },
    };
    const controller = new AbortController();
    const destination = guardDestination('stuck', plugin, { signal: controller.signal });
    const seen: string[] = [];
    const listing = failure(
      (async () => {
        for await (const item of destination.list('')) {
          seen.push(item.key);
          controller.abort();
        }
      })(),
    );
    expect(await listing).toMatchObject({ code: 'ABORTED', destination: 'stuck', retryable: false });
    expect(seen).toEqual(['a']);
    expect(received).toHaveLength(1);
    expect(received[0]?.aborted).toBe(true);
    // Asked after the abort, an operation does not reach the plugin at all.
    expect(await failure(destination.stat('k'))).toMatchObject({ code: 'ABORTED' });
    expect(received).toHaveLength(1);
  });

  it('ends a stat already waiting on a dead connection when the signal fires', async () => {
    const plugin: Destination = { ...memoryDestination(), stat: never };
    const controller = new AbortController();
    const destination = guardDestination('stuck', plugin, { signal: controller.signal });
    const stat = failure(destination.stat('k'));
    controller.abort();
    expect(await stat).toMatchObject({ code: 'ABORTED', destination: 'stuck' });
  });

  it('destroys a stream from get when the signal fires, and a caller’s own signal works too', async () => {
    const memory = memoryDestination();
    const plugin: Destination = { ...memory, get: async () => new Readable({ read() {} }) };
    const run = new AbortController();
    const destination = guardDestination('stuck', plugin, { signal: run.signal });
    const stream = await destination.get('k');
    const ended = new Promise<unknown>((resolve) => stream.once('error', resolve));
    run.abort();
    expect(await ended).toMatchObject({ name: 'AbortError' });

    const own = new AbortController();
    own.abort();
    const other = guardDestination('stuck', plugin, { signal: new AbortController().signal });
    expect(await failure(other.get('k', { signal: own.signal }))).toMatchObject({ code: 'ABORTED' });
  });

  it('does not retry an operation that failed once the signal fired', async () => {
    let calls = 0;
    const controller = new AbortController();
    const plugin: Destination = {
      ...memoryDestination(),
      async stat() {
        calls++;
        controller.abort();
        throw unreachable();
      },
    };
    const destination = guardDestination('flaky', plugin, {
      signal: controller.signal,
      retry: { policy: noDelay, onRetry: () => undefined },
    });
    expect(await failure(destination.stat('k'))).toMatchObject({ code: 'UNREACHABLE' });
    expect(calls).toBe(1);
  });
});

describe('concurrency cap (core, from capabilities.maxConcurrency)', () => {
  it('runs at most maxConcurrency operations at once, and a listing holds no slot while its caller works', async () => {
    const memory = memoryDestination();
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f'])
      await memory.put(key, Readable.from([Buffer.from('x')]), { size: 1, sha256: '' });
    let inFlight = 0;
    let most = 0;
    const plugin: Destination = {
      ...memory,
      async stat(key) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return memory.stat(key);
      },
    };
    const two = guardDestination('capped', plugin, { maxConcurrency: 2 });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect((await Promise.all(keys.map((key) => two.stat(key)))).map((found) => found?.key)).toEqual(keys);
    expect(most).toBe(2);

    const one = guardDestination('capped', plugin, { maxConcurrency: 1 });
    const statted: string[] = [];
    for await (const item of one.list('')) statted.push((await one.stat(item.key))?.key ?? '');
    expect(statted).toEqual(keys);
  });
});
