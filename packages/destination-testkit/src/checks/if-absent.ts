import assert from 'node:assert/strict';
import { isDestinationError } from '@matric-backup/plugin-api';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError, expectListed, expectStored } from '../expect.js';
import { withDestination } from '../harness.js';
import { bytesPayload, digest, type Payload, randomPayload } from '../payload.js';

const putIfAbsent = (
  destination: Parameters<Parameters<typeof withDestination>[1]>[0],
  key: string,
  payload: Payload,
) => destination.put(key, payload.stream(), { size: payload.size, sha256: payload.sha256, ifAbsent: true });

/**
 * A put retried after a retryable failure, as core retries every put: two connections opened at once to a
 * busy server may drop one, and the race is about which object ends up stored, not about the connection.
 */
async function putIfAbsentRetried(
  destination: Parameters<typeof putIfAbsent>[0],
  key: string,
  payload: Payload,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await putIfAbsent(destination, key, payload);
    } catch (error) {
      if (attempt === 3 || !isDestinationError(error) || !error.retryable) throw error;
    }
  }
}

export const ifAbsentChecks: readonly ConformanceCheck[] = [
  {
    name: 'put with ifAbsent stores an absent key, and refuses an existing one with ALREADY_EXISTS, leaving it as it was',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'if-absent/object.bin';
        const first = bytesPayload('the first writer');
        await putIfAbsent(destination, key, first);
        await expectStored(destination, key, first);
        const error = await expectDestinationError(
          putIfAbsent(destination, key, randomPayload(300 * 1024, 'if-absent-second')),
          'ALREADY_EXISTS',
          'put with ifAbsent over an existing key',
        );
        assert.equal(error.retryable, false, 'ALREADY_EXISTS must not be retryable');
        await expectStored(destination, key, first);
        // No temporary object of the refused put is left behind either.
        await expectListed(destination, '', [key]);
        if (options.rawList)
          assert.deepEqual(await options.rawList(), [key], 'stored files after the refusal');
      }),
  },
  {
    name: 'two puts with ifAbsent racing for one key: one stores its whole object; with exclusiveCreate the other gets ALREADY_EXISTS',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'if-absent/raced.bin';
        const payloads = [randomPayload(2 * 1024 * 1024, 'race-a'), randomPayload(2 * 1024 * 1024, 'race-b')];
        const outcomes = await Promise.allSettled(
          payloads.map((payload) => putIfAbsentRetried(destination, key, payload)),
        );
        const stored = await digest(await destination.get(key));
        const winner = payloads.findIndex((payload) => payload.sha256 === stored.sha256);
        assert.ok(winner >= 0, 'the stored object is neither writer\u2019s whole object');
        if (!options.plugin.capabilities.exclusiveCreate) return;
        assert.equal(outcomes[winner]!.status, 'fulfilled', 'the writer whose object is stored must succeed');
        const loser = outcomes[1 - winner]!;
        assert.ok(
          loser.status === 'rejected' &&
            isDestinationError(loser.reason) &&
            loser.reason.code === 'ALREADY_EXISTS',
          `the other writer must get ALREADY_EXISTS (exclusiveCreate is declared), got ${loser.status === 'rejected' ? String(loser.reason) : 'success'}`,
        );
      }),
  },
];
