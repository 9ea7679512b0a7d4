import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import plugin from '@matric-backup/plugin-local';
import { afterAll, describe, it } from 'vitest';

// Each test gets a fresh root inside one folder, removed when the file is done.
const parent = await mkdtemp(join(tmpdir(), 'mb-local-conformance-'));
afterAll(() => rm(parent, { recursive: true, force: true }));
let root = '';
runDestinationConformance({
  name: 'local',
  runner: { describe, it },
  plugin,
  config: async () => {
    root = await mkdtemp(join(parent, 'root-'));
    return { path: root };
  },
  // Every file under the root, hidden temporaries included.
  rawList: async () =>
    (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name))),
});
