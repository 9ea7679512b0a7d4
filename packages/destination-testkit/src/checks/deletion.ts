import assert from 'node:assert/strict';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError, expectListed, expectStored, putPayload } from '../expect.js';
import { withDestination } from '../harness.js';
import { bytesPayload } from '../payload.js';

export const deletionChecks: readonly ConformanceCheck[] = [
  {
    name: 'delete removes the key and leaves its siblings',
    run: (options) =>
      withDestination(options, async (destination) => {
        const sibling = bytesPayload('sibling');
        await putPayload(destination, 'del/gone', bytesPayload('gone'));
        await putPayload(destination, 'del/kept', sibling);
        await destination.delete('del/gone');
        assert.equal(await destination.stat('del/gone'), undefined, 'stat after delete');
        await expectDestinationError(destination.get('del/gone'), 'NOT_FOUND', 'get after delete');
        await expectListed(destination, '', ['del/kept']);
        await expectStored(destination, 'del/kept', sibling);
      }),
  },
  {
    name: 'delete is idempotent: twice, a missing key, a key in a missing folder',
    run: (options) =>
      withDestination(options, async (destination) => {
        await putPayload(destination, 'twice/x', bytesPayload('x'));
        await destination.delete('twice/x');
        await destination.delete('twice/x');
        await destination.delete('never-existed');
        await destination.delete('no/such/folder/never-existed');
        await expectListed(destination, '', []);
      }),
  },
  {
    name: 'a key can be put again after delete',
    run: (options) =>
      withDestination(options, async (destination) => {
        const again = bytesPayload('second life');
        await putPayload(destination, 'reborn/key', bytesPayload('first life'));
        await destination.delete('reborn/key');
        await putPayload(destination, 'reborn/key', again);
        await expectStored(destination, 'reborn/key', again);
      }),
  },
  {
    name: 'deleteMany (when the destination has it) removes the keys, tolerates missing ones, keeps the rest',
    run: (options) =>
      withDestination(options, async (destination) => {
        // An optional method: without it matric-backup deletes key by key, which the checks above cover.
        if (!destination.deleteMany) return;
        const kept = bytesPayload('kept');
        await putPayload(destination, 'many/a', bytesPayload('a'));
        await putPayload(destination, 'many/b', bytesPayload('b'));
        await putPayload(destination, 'many/kept', kept);
        const result = await destination.deleteMany(['many/a', 'many/b', 'many/never-existed']);
        assert.deepEqual(
          result.failed.map(({ key, error }) => `${key}: ${error.message}`),
          [],
          'deleteMany reported failures',
        );
        await expectListed(destination, '', ['many/kept']);
        await expectStored(destination, 'many/kept', kept);
        assert.deepEqual((await destination.deleteMany([])).failed, [], 'deleteMany([])');
      }),
  },
];
