import assert from 'node:assert/strict';
import { isDestinationError } from '@matric-backup/plugin-api';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError, expectListed, expectStored, putPayload } from '../expect.js';
import { withDestination } from '../harness.js';
import { MiB, type ResolvedConformanceOptions } from '../options.js';
import { bytesPayload, randomPayload } from '../payload.js';

function roundTrip(label: string, size: (options: ResolvedConformanceOptions) => number): ConformanceCheck {
  return {
    name: `round trip of ${label} streamed object`,
    run: (options) =>
      withDestination(options, async (destination) => {
        const bytes = size(options);
        const payload = randomPayload(bytes, `round-trip-${bytes}`);
        const key = `round-trip/${bytes}.bin`;
        const limit = options.plugin.capabilities.maxObjectSize;
        if (limit !== undefined && bytes > limit) {
          // A declared limit must surface as a clear, final error and leave nothing behind.
          const error = await expectDestinationError(
            putPayload(destination, key, payload),
            undefined,
            `put of ${bytes} B over maxObjectSize ${limit}`,
          );
          assert.ok(
            isDestinationError(error) && error.code !== 'UNKNOWN' && !error.retryable,
            `put over maxObjectSize must fail with a specific, non-retryable code, got ${error.code}: ${error.message}`,
          );
          await expectListed(destination, '', []);
          return;
        }
        await putPayload(destination, key, payload);
        await expectStored(destination, key, payload);
        await expectListed(destination, '', [key]);
      }),
  };
}

const awkwardKeys = [
  'a/b/c/d/e/deeply nested.bin',
  'with space/and another space.txt',
  'ünïcødé/日本語のファイル 😀.dat',
  'dots.in.name/file.tar.zst',
];

export const putGetChecks: readonly ConformanceCheck[] = [
  roundTrip('0 B', () => 0),
  roundTrip('1 B', () => 1),
  roundTrip('5 MiB', () => 5 * MiB),
  roundTrip('large (largeObjectSize)', (options) => options.largeObjectSize),
  {
    name: 'nested keys and keys with spaces and unicode round-trip and list verbatim',
    run: (options) =>
      withDestination(options, async (destination) => {
        for (const key of awkwardKeys) await putPayload(destination, key, bytesPayload(`content of ${key}`));
        for (const key of awkwardKeys)
          await expectStored(destination, key, bytesPayload(`content of ${key}`));
        await expectListed(destination, '', awkwardKeys);
      }),
  },
  {
    name: 'put reports progress: onProgress is called, never goes down, and ends at the object size',
    run: (options) =>
      withDestination(options, async (destination) => {
        const payload = randomPayload(5 * MiB + 3, 'progress');
        const reported: number[] = [];
        await destination.put('progress.bin', payload.stream(), {
          size: payload.size,
          sha256: payload.sha256,
          onProgress: (bytes) => reported.push(bytes),
        });
        assert.ok(reported.length > 0, 'onProgress was never called');
        for (let i = 1; i < reported.length; i++) {
          assert.ok(
            reported[i]! >= reported[i - 1]!,
            `onProgress went down: ${reported[i - 1]} then ${reported[i]}`,
          );
        }
        assert.ok(
          reported.every((bytes) => Number.isFinite(bytes) && bytes >= 0 && bytes <= payload.size),
          `onProgress reported a value outside 0..${payload.size}: ${reported.join(', ')}`,
        );
        assert.equal(reported.at(-1), payload.size, 'the last onProgress value is not the object size');
      }),
  },
];
