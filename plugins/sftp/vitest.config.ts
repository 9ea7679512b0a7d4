import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.js';

// Each test file starts its own sshd / rsync daemon; one file at a time keeps the
// two shared cores (and the servers) from being oversubscribed.
export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: '@matric-backup/plugin-sftp',
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
