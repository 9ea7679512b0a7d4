import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { workspaceAlias } from './vitest.shared.js';

// The plugin template is not a workspace package (it is what an author copies), so its
// imports are pointed at the workspace here: the SDK and testkit sources, the SDK's zod.
const templateAlias = {
  ...workspaceAlias,
  zod: createRequire(new URL('./packages/plugin-api/package.json', import.meta.url)).resolve('zod'),
};

// Each workspace package is its own vitest project; server-backed suites set
// fileParallelism: false in their own config so a server serves one file at a time.
export default defineConfig({
  test: {
    // vitest's default on a 2-core machine is one worker: files ran one at a time and a core sat idle
    // while each end-to-end test waited on the CLI it spawned.
    maxWorkers: 2,
    projects: [
      'packages/*',
      'plugins/*',
      'apps/*',
      'test',
      {
        resolve: { alias: templateAlias },
        test: { name: 'plugin-template', root: 'examples/plugin-template', include: ['test/**/*.test.ts'] },
      },
    ],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
