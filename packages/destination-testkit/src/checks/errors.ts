import assert from 'node:assert/strict';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError } from '../expect.js';
import { withDestination } from '../harness.js';

export const errorChecks: readonly ConformanceCheck[] = [
  {
    name: 'get of a missing key rejects with NOT_FOUND (not retryable), also in a missing folder',
    run: (options) =>
      withDestination(options, async (destination) => {
        for (const key of ['missing.bin', 'no/such/folder/missing.bin']) {
          const error = await expectDestinationError(
            destination.get(key),
            'NOT_FOUND',
            `get(${JSON.stringify(key)})`,
          );
          assert.equal(error.retryable, false, 'NOT_FOUND must not be retryable');
        }
      }),
  },
];
