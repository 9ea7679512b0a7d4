import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError, expectListed, expectOnlyKeys, expectStored, putPayload } from '../expect.js';
import { withDestination } from '../harness.js';
import { MiB } from '../options.js';
import { bytesPayload, cutStream, type Payload, randomPayload } from '../payload.js';

// Larger than one S3 multipart part (5 MiB), so a multipart upload has really begun when the source fails.
const SIZE = 12 * MiB;
const CUT_AT = 7 * MiB;
// How long a put may take to notice an abort before the check gives up on it.
const ABORT_GRACE_MS = 5_000;

function failingSource(seed: string): { payload: Payload; body: Readable } {
  const payload = randomPayload(SIZE, seed);
  const body = cutStream(payload, CUT_AT, (stream) => stream.destroy(new Error('source failed half-way')));
  return { payload, body };
}

/** Puts a stream that is aborted half-way; the put must reject with ABORTED within the grace period. */
async function abortedPut(destination: Destination, key: string, seed: string) {
  const payload = randomPayload(SIZE, seed);
  const controller = new AbortController();
  // The source stalls after the cut, as a real one would when its producer is gone; only the signal ends the put.
  const body = cutStream(payload, CUT_AT, () => controller.abort());
  const put = destination.put(key, body, {
    size: payload.size,
    sha256: payload.sha256,
    signal: controller.signal,
  });
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('stalled'), ABORT_GRACE_MS);
  });
  const outcome = await Promise.race([
    put.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    stalled,
  ]);
  clearTimeout(timer);
  // Ends the stalled source whatever the plugin did with it; a put that ignored the signal settles now.
  body.destroy();
  if (outcome === 'stalled') await put.catch(() => undefined);
  assert.notEqual(outcome, 'stalled', `put ignored its AbortSignal for ${ABORT_GRACE_MS / 1000} s`);
  await expectDestinationError(put, 'ABORTED', 'aborted put');
}

export const atomicityChecks: readonly ConformanceCheck[] = [
  {
    name: 'a source stream that errors half-way rejects and leaves neither the key nor a temporary object',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'atomic/failed.bin';
        const { payload, body } = failingSource('failed-put');
        await expectDestinationError(
          destination.put(key, body, { size: payload.size, sha256: payload.sha256 }),
          undefined,
          'put from a failing source',
        );
        assert.equal(await destination.stat(key), undefined, 'stat finds the key of a failed put');
        await expectOnlyKeys(destination, options.rawList, []);
      }),
  },
  {
    name: 'a failed put over an existing key keeps the previous content',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'atomic/existing.bin';
        const previous = bytesPayload('the previous, complete content');
        await putPayload(destination, key, previous);
        const { payload, body } = failingSource('failed-overwrite');
        await expectDestinationError(
          destination.put(key, body, { size: payload.size, sha256: payload.sha256 }),
          undefined,
          'overwrite from a failing source',
        );
        await expectStored(destination, key, previous);
        await expectOnlyKeys(destination, options.rawList, [key]);
      }),
  },
  {
    name: 'a put aborted half-way (AbortSignal) rejects with ABORTED and leaves nothing behind',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'atomic/aborted.bin';
        await abortedPut(destination, key, 'aborted-put');
        assert.equal(await destination.stat(key), undefined, 'stat finds the key of an aborted put');
        await expectOnlyKeys(destination, options.rawList, []);
      }),
  },
  {
    name: 'a put with an already aborted signal rejects with ABORTED and stores nothing',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'atomic/pre-aborted.bin';
        const payload = bytesPayload('never stored');
        const signal = AbortSignal.abort();
        await expectDestinationError(
          destination.put(key, payload.stream(), { size: payload.size, sha256: payload.sha256, signal }),
          'ABORTED',
          'put with an aborted signal',
        );
        await expectOnlyKeys(destination, options.rawList, []);
      }),
  },
  {
    name: 'while a put is in flight, neither its key nor a temporary object is listed',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'flight/object.bin';
        const other = bytesPayload('already stored');
        await putPayload(destination, 'flight/other', other);
        const payload = randomPayload(SIZE, 'in-flight');
        const controller = new AbortController();
        let reached: () => void = () => undefined;
        const halfway = new Promise<void>((resolve) => {
          reached = resolve;
        });
        // The source stalls once CUT_AT bytes were taken: the put is then really in flight.
        const body = cutStream(payload, CUT_AT, () => reached());
        const put = destination.put(key, body, {
          size: payload.size,
          sha256: payload.sha256,
          signal: controller.signal,
        });
        const ended = put.then(
          () => assert.fail('put resolved although its body never ended'),
          (error) => assert.fail(`put failed while its body was still open: ${error}`),
        );
        try {
          await Promise.race([halfway, ended]);
          await expectListed(destination, '', ['flight/other']);
          await expectListed(destination, 'flight/', ['flight/other']);
          assert.equal(await destination.stat(key), undefined, 'stat finds the key of an unfinished put');
        } finally {
          controller.abort();
          body.destroy(new Error('the test ended the upload'));
          await put.catch(() => undefined);
        }
        await expectOnlyKeys(destination, options.rawList, ['flight/other']);
      }),
  },
];
