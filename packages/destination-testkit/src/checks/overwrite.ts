import type { ConformanceCheck } from '../check.js';
import { expectListed, expectStored, putPayload } from '../expect.js';
import { withDestination } from '../harness.js';
import { bytesPayload, randomPayload } from '../payload.js';

export const overwriteChecks: readonly ConformanceCheck[] = [
  {
    name: 'put over an existing key replaces its content (longer, then shorter)',
    run: (options) =>
      withDestination(options, async (destination) => {
        const key = 'overwrite/object.bin';
        const first = bytesPayload('first version');
        const longer = randomPayload(300 * 1024, 'overwrite-longer');
        const shorter = bytesPayload('v3');
        await putPayload(destination, key, first);
        await putPayload(destination, key, longer);
        await expectStored(destination, key, longer);
        // Shorter after longer catches a write that does not truncate.
        await putPayload(destination, key, shorter);
        await expectStored(destination, key, shorter);
        await expectListed(destination, '', [key]);
      }),
  },
];
