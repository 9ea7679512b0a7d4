import assert from 'node:assert/strict';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError } from '../expect.js';
import { openDestination, withDestination } from '../harness.js';

export const closeChecks: readonly ConformanceCheck[] = [
  {
    name: 'check() resolves with human-readable details',
    run: (options) =>
      withDestination(options, async (destination) => {
        const result = await destination.check();
        assert.ok(
          Array.isArray(result.details) && result.details.length > 0,
          'check() must report what it found',
        );
        for (const line of result.details) assert.equal(typeof line, 'string', 'check() details are strings');
        if (result.freeBytes !== undefined) {
          assert.ok(
            Number.isFinite(result.freeBytes) && result.freeBytes >= 0,
            `freeBytes ${result.freeBytes}`,
          );
        }
      }),
  },
  {
    name: 'close() twice resolves',
    run: async (options) => {
      const destination = await openDestination(options);
      await destination.check();
      await destination.close();
      await destination.close();
    },
  },
  {
    name: 'check() of a destination with wrong credentials rejects with AUTH_FAILED, not retryable',
    applies: (options) => options.badCredentials !== undefined,
    run: async (options) => {
      const destination = await openDestination(options, options.badCredentials!());
      try {
        const error = await expectDestinationError(
          destination.check(),
          'AUTH_FAILED',
          'check() with wrong credentials',
        );
        assert.equal(
          error.retryable,
          false,
          'AUTH_FAILED must not be retryable: retrying a wrong password only locks accounts',
        );
      } finally {
        await destination.close();
      }
    },
  },
];
