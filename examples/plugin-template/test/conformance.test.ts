import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import plugin from '../src/index.js';

const context = { name: 'conformance', configDir: tmpdir(), tmpDir: tmpdir(), log: console };
let root = '';

runDestinationConformance({
  name: 'example',
  // A fresh, empty root for every test. For a networked store, start its server
  // in this file (127.0.0.1) and use a new bucket, prefix or folder per test.
  factory: async () => {
    root = await mkdtemp(join(tmpdir(), 'example-conformance-'));
    return plugin.create(plugin.configSchema.parse({ path: root }), context);
  },
  capabilities: plugin.capabilities,
  // Everything under the last root, temporaries included: proves that a failed put leaves nothing.
  rawList: async () =>
    (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1)),
});
