import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: '@matric-backup/plugin-s3',
    include: ['test/**/*.test.ts'],
    // Each file starts its own s3rver; one at a time keeps the 2-core machine responsive.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
