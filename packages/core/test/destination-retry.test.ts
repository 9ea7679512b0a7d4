import { DestinationError } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { backoffDelay, retryPolicy, withRetries } from '../src/destination/retry.js';

const defaults = retryPolicy({ max_retries: 3, initial_delay: '1s', max_delay: '60s', backoff_factor: 2 });

describe('retry policy', () => {
  it('reads backup.retry durations (a bare number is seconds)', () => {
    expect(defaults).toEqual({ retries: 3, initialDelayMs: 1000, maxDelayMs: 60_000, factor: 2 });
    expect(retryPolicy({ max_retries: 0, initial_delay: 2, max_delay: '500ms', backoff_factor: 3 })).toEqual({
      retries: 0,
      initialDelayMs: 2000,
      maxDelayMs: 500,
      factor: 3,
    });
  });

  it('doubles from 1 s up to 60 s, jittered into the upper half of each step', () => {
    const low = (index: number) => backoffDelay(defaults, index, () => 0);
    const high = (index: number) => backoffDelay(defaults, index, () => 0.999_999);
    expect([0, 1, 2, 3, 6, 7, 20].map(low)).toEqual([500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
    expect([0, 1, 2, 3, 6, 7, 20].map(high)).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
  });

  it('retries only retryable DestinationErrors and reports each retry before waiting', async () => {
    const policy = { ...defaults, initialDelayMs: 0 };
    const notices: number[] = [];
    let calls = 0;
    const result = await withRetries(
      policy,
      async () => {
        calls++;
        if (calls < 3) throw new DestinationError('UNREACHABLE', 'down');
        return 'ok';
      },
      ({ attempt }) => notices.push(attempt),
    );
    expect(result).toBe('ok');
    expect(notices).toEqual([1, 2]);

    calls = 0;
    const failing = withRetries(
      policy,
      async () => {
        calls++;
        throw new DestinationError('AUTH_FAILED', 'bad key');
      },
      () => undefined,
    );
    await expect(failing).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      withRetries(
        policy,
        async () => {
          calls++;
          throw new Error('a bug, not a destination failure');
        },
        () => undefined,
      ),
    ).rejects.toThrow('a bug');
    expect(calls).toBe(1);
  });
});
