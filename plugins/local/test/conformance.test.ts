import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import plugin from '@matric-backup/plugin-local';
import { describe, it } from 'vitest';

let root = '';
runDestinationConformance({
  name: 'local',
  runner: { describe, it },
  plugin,
  config: async () => {
    root = await mkdtemp(join(tmpdir(), 'mb-local-conformance-'));
    return { path: root };
  },
  // Every file under the root, hidden temporaries included.
  rawList: async () =>
    (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name))),
});
