import assert from 'node:assert/strict';
import type { ConformanceCheck } from '../check.js';
import { expectDestinationError, expectInfo, listAll, putPayload } from '../expect.js';
import { withDestination } from '../harness.js';
import { bytesPayload } from '../payload.js';

export const statChecks: readonly ConformanceCheck[] = [
  {
    name: 'stat of a present key gives key, size and modified',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'stat/present.txt';
        await putPayload(destination, key, bytesPayload('twelve bytes'));
        const info = await destination.stat(key);
        assert.ok(info, 'stat found nothing');
        expectInfo(info, key, 12);
      }),
  },
  {
    name: 'stat of an absent key is undefined, also in a missing folder',
    run: (options) =>
      withDestination(options, async (destination) => {
        assert.equal(await destination.stat('absent.txt'), undefined);
        assert.equal(await destination.stat('no/such/folder/absent.txt'), undefined);
      }),
  },
  {
    name: 'a key that is only the prefix of others is not an object (stat undefined, get NOT_FOUND)',
    run: (options) =>
      withDestination(options, async (destination) => {
        await putPayload(destination, 'folder/child', bytesPayload('child'));
        assert.equal(await destination.stat('folder'), undefined, 'stat of a folder-like prefix');
        await expectDestinationError(destination.get('folder'), 'NOT_FOUND', 'get of a folder-like prefix');
      }),
  },
  {
    name: 'modified has the precision the plugin declares (subsecondModified)',
    applies: (options) => options.plugin.capabilities.subsecondModified === true,
    run: (options) =>
      withDestination(options, async (destination) => {
        // Three objects: all three landing on a whole second by chance is a one in a billion event.
        const keys = ['precision/a', 'precision/b', 'precision/c'];
        for (const key of keys) await putPayload(destination, key, bytesPayload(key));
        const infos = [...(await listAll(destination, 'precision/'))];
        for (const key of keys) infos.push((await destination.stat(key))!);
        const fractional = infos.filter((info) => info.modified.getTime() % 1000 !== 0);
        assert.ok(
          fractional.length > 0,
          `subsecondModified is declared, but every modified is a whole second: ${infos
            .map((info) => info.modified.toISOString())
            .join(', ')}`,
        );
      }),
  },
];
