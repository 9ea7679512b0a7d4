import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: '@matric-backup/plugin-smb',
    include: ['test/**/*.test.ts'],
    // Each server-backed file starts its own smbd; one file at a time keeps the 2-core machine responsive.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
