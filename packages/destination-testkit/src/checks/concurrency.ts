import type { ConformanceCheck } from '../check.js';
import { expectListed, expectStored, putPayload } from '../expect.js';
import { withDestination } from '../harness.js';
import { randomPayload } from '../payload.js';

const PARALLEL = 8;

export const concurrencyChecks: readonly ConformanceCheck[] = [
  {
    name: 'concurrent puts of different keys, in one new folder and in several, all land intact',
    run: (options) =>
      withDestination(options, async (destination) => {
        // Half share one folder that does not exist yet (racing to create it), half get their own.
        const entries = Array.from({ length: PARALLEL }, (_, i) => ({
          key: i % 2 ? `together/new/folder/object-${i}` : `apart-${i}/object-${i}`,
          payload: randomPayload(256 * 1024 + i, `concurrent-${i}`),
        }));
        await Promise.all(entries.map(({ key, payload }) => putPayload(destination, key, payload)));
        for (const { key, payload } of entries) await expectStored(destination, key, payload);
        await expectListed(
          destination,
          '',
          entries.map(({ key }) => key),
        );
      }),
  },
];
