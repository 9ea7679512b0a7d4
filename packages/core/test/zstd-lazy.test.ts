import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const CORE = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** How many zstd-napi modules the built core has loaded after `script` ran in a fresh process. */
async function zstdModulesAfter(script: string): Promise<number> {
  const { stdout } = await run(process.execPath, [
    '--input-type=module',
    '-e',
    `const core = await import(${JSON.stringify(CORE)});
${script}
const { default: Module } = await import('node:module');
console.log(Object.keys(Module._cache).filter((path) => path.includes('zstd-napi')).length);`,
  ]);
  return Number(stdout.trim());
}

// Importing core (every CLI command does) must not need the native addon, so
// `plugins`, gzip configs and the like work where zstd-napi failed to build.
it('loads the zstd addon only when a zstd stream is made', async () => {
  expect(await zstdModulesAfter('')).toBe(0);
  expect(await zstdModulesAfter("core.createCompressStream('zstd', 3);")).toBeGreaterThan(0);
});
