import { defineConfig } from 'vitest/config';

// The conformance suite streams a 64 MiB object and lists 1,100 keys; a networked store needs time.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000 },
});
