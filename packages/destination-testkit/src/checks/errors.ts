import assert from 'node:assert/strict';
import { type Destination, guardDestination } from '@matric-backup/core';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError, listAll } from '../expect.js';
import { withDestination } from '../harness.js';
import type { ResolvedConformanceOptions } from '../options.js';
import { bytesPayload } from '../payload.js';

const invalidKeys = ['..', '../escape', 'a/../../b', '/etc/passwd', 'a\\b', 'nul\0byte', ''];
const invalidPrefixes = ['../', '/abs', 'a\\', 'nul\0'];

/** The plugin's destination, recording every method core lets through to it. */
function recording(inner: Destination, calls: string[]): Destination {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

async function invalidKeysRejectedBeforePlugin(options: ResolvedConformanceOptions) {
  const calls: string[] = [];
  const raw = await options.factory();
  const destination = guardDestination(options.name, recording(raw, calls));
  try {
    for (const key of invalidKeys) {
      const body = bytesPayload('must never be stored');
      const what = (op: string) => `${op}(${JSON.stringify(key)})`;
      // Called inside async functions so a synchronous throw counts as a rejection too.
      await expectDestinationError(
        (async () => destination.put(key, body.stream(), { size: body.size, sha256: body.sha256 }))(),
        'INVALID_KEY',
        what('put'),
      );
      await expectDestinationError((async () => destination.get(key))(), 'INVALID_KEY', what('get'));
      await expectDestinationError((async () => destination.stat(key))(), 'INVALID_KEY', what('stat'));
      await expectDestinationError((async () => destination.delete(key))(), 'INVALID_KEY', what('delete'));
    }
    for (const prefix of invalidPrefixes) {
      await expectDestinationError(
        listAll(destination, prefix),
        'INVALID_KEY',
        `list(${JSON.stringify(prefix)})`,
      );
    }
    assert.deepEqual(calls, [], 'the plugin was called with an invalid key');
    assert.deepEqual(await listAll(destination, ''), [], 'an invalid key stored something');
  } finally {
    await destination.close();
  }
}

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
  {
    name: 'invalid keys (.., absolute, backslash, NUL, empty) reject with INVALID_KEY before the plugin is called',
    run: invalidKeysRejectedBeforePlugin,
  },
];
