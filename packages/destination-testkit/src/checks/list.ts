import assert from 'node:assert/strict';
import type { ConformanceCheck } from '../check.js';
import { expectInfo, expectListed, listAll, putPayload } from '../expect.js';
import { inBatches, withDestination } from '../harness.js';
import { bytesPayload } from '../payload.js';

// Bounded so a slow server is not flooded; enough to make 1,100 small puts quick.
const PUT_CONCURRENCY = 8;

const prefixKeys = ['p/a', 'p/b', 'p/sub/c', 'p2/d', 'pa', 'q/p/e'];

export const listChecks: readonly ConformanceCheck[] = [
  {
    name: 'list of an empty destination is empty',
    run: (options) => withDestination(options, (destination) => expectListed(destination, '', [])),
  },
  {
    name: 'list(prefix) returns exactly the keys starting with prefix, nested ones included',
    run: (options) =>
      withDestination(options, async (destination) => {
        for (const key of prefixKeys) await putPayload(destination, key, bytesPayload(key));
        await expectListed(destination, '', prefixKeys);
        await expectListed(destination, 'p/', ['p/a', 'p/b', 'p/sub/c']);
        // A prefix is a string prefix, not a folder: `p` also matches `p2/d` and `pa`.
        await expectListed(destination, 'p', ['p/a', 'p/b', 'p/sub/c', 'p2/d', 'pa']);
        await expectListed(destination, 'p/s', ['p/sub/c']);
        await expectListed(destination, 'p/sub/c', ['p/sub/c']);
        await expectListed(destination, 'q/', ['q/p/e']);
        await expectListed(destination, 'nothing-here/', []);
        await expectListed(destination, 'p/sub/c/deeper', []);
      }),
  },
  {
    name: 'list reports each size and a Date for modified',
    run: (options) =>
      withDestination(options, async (destination) => {
        const contents = { 'sizes/empty': '', 'sizes/one': 'x', 'sizes/nested/more': 'x'.repeat(4097) };
        for (const [key, body] of Object.entries(contents))
          await putPayload(destination, key, bytesPayload(body));
        const listed = await listAll(destination, 'sizes/');
        assert.equal(listed.length, 3, 'list(sizes/) count');
        for (const info of listed) {
          const body = contents[info.key as keyof typeof contents];
          assert.notEqual(body, undefined, `unexpected key ${JSON.stringify(info.key)}`);
          expectInfo(info, info.key, Buffer.byteLength(body));
        }
      }),
  },
  {
    name: 'list is complete beyond 1,000 keys (manyKeys)',
    run: (options) =>
      withDestination(options, async (destination) => {
        const keys = Array.from(
          { length: options.manyKeys },
          (_, i) => `many/key-${String(i).padStart(5, '0')}`,
        );
        await inBatches(keys, PUT_CONCURRENCY, (key) => putPayload(destination, key, bytesPayload(key)));
        await putPayload(destination, 'other/outside', bytesPayload('not under many/'));
        const listed = await listAll(destination, 'many/');
        const unique = new Set(listed.map((info) => info.key));
        assert.equal(unique.size, listed.length, 'list(many/) returned a key twice');
        assert.equal(listed.length, keys.length, 'list(many/) count');
        assert.deepEqual([...unique].sort(), keys, 'list(many/) keys');
        for (const info of listed)
          assert.equal(info.size, Buffer.byteLength(info.key), `size of ${info.key}`);
      }),
  },
];
