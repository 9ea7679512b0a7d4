import { defineProject } from 'vitest/config';
import { UNIT_TEST_TIMEOUT_MS, workspaceAlias } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: '@matric-backup/plugin-api',
    include: ['test/**/*.test.ts'],
    testTimeout: UNIT_TEST_TIMEOUT_MS,
  },
});
