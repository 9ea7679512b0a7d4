import assert from 'node:assert/strict';
import { guardDestination } from '@matric-backup/core';
import type { ConformanceCheck } from '../check.js';
import { withDestination } from '../harness.js';

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
    name: 'close() twice resolves, on the plugin itself and through core',
    run: async (options) => {
      // Core memoizes close(), so the plugin's own close() is called twice directly.
      const raw = await options.factory();
      await raw.check();
      await raw.close();
      await raw.close();
      const guarded = guardDestination(options.name, await options.factory());
      await guarded.close();
      await guarded.close();
    },
  },
];
