import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { afterAll, describe, it } from 'vitest';
import plugin from '../src/index.js';

// Each test gets a fresh root inside one folder, removed when the file is done.
const parent = await mkdtemp(join(tmpdir(), 'example-conformance-'));
afterAll(() => rm(parent, { recursive: true, force: true }));
let root = '';

runDestinationConformance({
  name: 'example',
  // The suite registers its tests with your runner (node:test, jest and mocha work too).
  runner: { describe, it },
  plugin,
  // The block's keys for a fresh, empty root, before every test; parsed through the plugin's
  // configSchema. For a networked store, start its server in this file (127.0.0.1) and return
  // a new bucket, prefix or folder each time.
  config: async () => {
    root = await mkdtemp(join(parent, 'root-'));
    return { path: root };
  },
  // A store with credentials passes `badCredentials: () => ({ ...with a wrong password })`:
  // its check() must then reject with AUTH_FAILED.
  // Everything under the last root, temporaries included: proves that a failed put leaves nothing.
  rawList: async () =>
    (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1)),
});
