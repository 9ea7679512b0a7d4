import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Tests import workspace packages from source, so a package's tests run without
 * a build and see edits at once. End-to-end tests spawn the built CLI instead.
 */
export const workspaceAlias = {
  // Before the package itself: vite matches an alias as a prefix, first entry first.
  '@matric-backup/plugin-api/fs-store': here('./packages/plugin-api/src/fs-store/index.ts'),
  '@matric-backup/plugin-api': here('./packages/plugin-api/src/index.ts'),
  '@matric-backup/core': here('./packages/core/src/index.ts'),
  '@matric-backup/destination-testkit': here('./packages/destination-testkit/src/index.ts'),
  '@matric-backup/plugin-local': here('./plugins/local/src/index.ts'),
  '@matric-backup/plugin-s3': here('./plugins/s3/src/index.ts'),
  '@matric-backup/plugin-sftp': here('./plugins/sftp/src/index.ts'),
  '@matric-backup/plugin-smb': here('./plugins/smb/src/index.ts'),
  '@matric-backup/test-servers': here('./packages/test-servers/src/index.ts'),
};

/**
 * Unit suites write real files, run zstd and age, and start worker threads: on a
 * 2-core machine running the server suites beside them, some take over vitest's
 * 5 s default without anything being wrong.
 */
export const UNIT_TEST_TIMEOUT_MS = 30_000;
