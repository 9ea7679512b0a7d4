import { tmpdir } from 'node:os';
import type { DestinationPlugin, PluginContext } from '@matric-backup/plugin-api';
import type { TestRunner } from './runner.js';

export interface ConformanceOptions {
  /** Shown in the suite's title, e.g. `local` or `s3 (s3rver)`. */
  name: string;
  /** The plugin as it default-exports itself: its configSchema, capabilities and create() are what is tested. */
  plugin: DestinationPlugin;
  /**
   * The destination block's plugin keys (as a user writes them in backup.yaml, without
   * name/type) for a FRESH, EMPTY root: called before every test, so return a new
   * folder, bucket prefix or share folder each time. Parsed through `plugin.configSchema`
   * as matric-backup does; a config the schema refuses fails with each key path.
   */
  config: () => unknown;
  /**
   * Your test runner's `describe` and `it` (vitest, node:test, jest, mocha). The checks
   * assert with node:assert, so no `expect` is needed.
   */
  runner: TestRunner;
  /**
   * Optional: a config (same shape as `config`) whose credentials are wrong. When given,
   * `check()` of its destination must reject with AUTH_FAILED, not retryable.
   */
  badCredentials?: () => unknown;
  /** What create() receives besides the config; name, folders and a silent logger by default. */
  context?: Partial<PluginContext>;
  /** Size of the large round trip, in bytes. Default 64 MiB. */
  largeObjectSize?: number;
  /** How many keys the long listing puts (must exceed common server page sizes of 1,000). Default 1,100. */
  manyKeys?: number;
  /** Per-test timeout in milliseconds, for runners that take one. Default 120,000. */
  timeoutMs?: number;
  /**
   * Storage-level listing of the root behind the config returned most recently: every
   * stored object or file, including hidden temporary ones and unfinished uploads, as
   * '/'-separated paths relative to that root (no folders). When given, the atomicity
   * checks also assert that nothing but the expected keys is stored.
   */
  rawList?: () => Promise<string[]>;
}

export type ResolvedConformanceOptions = Required<
  Omit<ConformanceOptions, 'rawList' | 'badCredentials' | 'runner' | 'context'>
> &
  Pick<ConformanceOptions, 'rawList' | 'badCredentials'> & { context: PluginContext };

export const MiB = 1024 * 1024;

export function resolveOptions(options: Omit<ConformanceOptions, 'runner'>): ResolvedConformanceOptions {
  const { context, ...rest } = options;
  return {
    largeObjectSize: 64 * MiB,
    manyKeys: 1100,
    timeoutMs: 120_000,
    ...rest,
    context: {
      name: options.name,
      configDir: process.cwd(),
      tmpDir: tmpdir(),
      log: { debug() {}, info() {}, warn() {} },
      ...context,
    },
  };
}
