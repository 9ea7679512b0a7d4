import { createRequire } from 'node:module';

type Binding = typeof import('zstd-napi/binding.js');
let loaded: Binding | undefined;

/**
 * zstd-napi's native addon, loaded when a zstd stream is first made: commands
 * that touch no zstd archive, and configs using gzip or none, work even where
 * the addon failed to build (a blocked install script, no compiler).
 */
export function zstdBinding(): Binding {
  // KEEP createRequire: binding.js re-exports a native addon, so Node's ESM loader sees no named exports and
  // `import * as binding` makes the BUILT CLI crash at startup (vitest's CJS interop hides it in unit tests).
  loaded ??= createRequire(import.meta.url)('zstd-napi/binding.js') as Binding;
  return loaded;
}
