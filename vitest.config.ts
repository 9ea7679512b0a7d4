import { defineConfig } from 'vitest/config';

// Each workspace package is its own vitest project; server-backed suites set
// fileParallelism: false in their own config so a server serves one file at a time.
export default defineConfig({
  test: {
    projects: ['packages/*', 'plugins/*', 'apps/*', 'test'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
