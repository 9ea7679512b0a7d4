// The CLI ships as a few bundled chunks: a small run reads ~130 files at start-up instead of ~440 (every
// module of the CLI, core, yaml, yargs ... was a file of its own), for about 0.7x the CPU time.
//
// What stays outside the bundle is exactly this package's `dependencies`, installed beside it: the
// plugins and the plugin SDK (plugins and core must share ONE copy of @matric-backup/plugin-api), zod
// (the copy plugins define their config schemas with), zstd-napi (a native addon), and the libraries
// loaded only by the commands or features that use them. The `devDependencies` (core, yargs, the output
// libraries) and what they import are bundled.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'rolldown';

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const outside = new Set([...Object.keys(manifest.dependencies), ...builtinModules]);
const packageOf = (id) =>
  id
    .split('/')
    .slice(0, id.startsWith('@') ? 2 : 1)
    .join('/');

// Core's restore writer thread is its own file (a worker is started from a file): it becomes
// dist/write-thread.mjs, next to the chunk that starts it, where `new URL('./write-thread.mjs',
// import.meta.url)` finds it.
const coreDist = dirname(fileURLToPath(import.meta.resolve('@matric-backup/core')));

export default defineConfig({
  input: { bin: 'build/bin.js', 'write-thread': join(coreDist, 'restore/write-thread.mjs') },
  platform: 'node',
  external: (id) => id.startsWith('node:') || outside.has(packageOf(id)),
  plugins: [inlinePackageVersions()],
  output: {
    dir: 'dist',
    cleanDir: true,
    format: 'esm',
    entryFileNames: (chunk) => (chunk.name === 'write-thread' ? '[name].mjs' : '[name].js'),
    chunkFileNames: '[name]-[hash].js',
  },
});

/**
 * The CLI and core read their own package.json (`createRequire(import.meta.url)('../package.json')`)
 * for the version they report and write into manifests. Bundled, that path would point elsewhere:
 * the manifest is inlined instead, so the bundle reports the versions it was built from.
 */
function inlinePackageVersions() {
  const read = /createRequire\(import\.meta\.url\)\((["'])(\.[^"']*\/package\.json)\1\)/g;
  return {
    name: 'inline-package-versions',
    transform(code, id) {
      if (!code.includes('package.json')) return null;
      const inlined = code.replace(read, (_, _quote, path) => {
        const { name, version } = JSON.parse(readFileSync(join(dirname(id), path), 'utf8'));
        return `(${JSON.stringify({ name, version })})`;
      });
      return inlined === code ? null : { code: inlined, map: null };
    },
  };
}
