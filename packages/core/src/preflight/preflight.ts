import type { LoadedConfig } from '../config/types.js';
import { checkEncryption } from './encryption.js';
import { preflightError } from './issues.js';
import { checkSources } from './sources.js';

export interface PreflightOptions {
  /**
   * `full` (check, run --dry-run): sources, encryption and the identity file.
   * `encryption` (run): only what would fail the run after the sources were
   * read, so a typo in a recipient is a config error before any work.
   */
  scope: 'full' | 'encryption';
  env?: NodeJS.ProcessEnv;
}

/**
 * Checks what the config leaves to the machine: source folders that exist and
 * can be read, command programs on PATH, encryption recipients that parse or are
 * in the keyring, an identity that fits a recipient. Throws one ConfigError
 * listing every problem with its key path and line.
 */
export async function preflight(config: LoadedConfig, options: PreflightOptions): Promise<void> {
  const full = options.scope === 'full';
  const issues = [
    ...(full ? await checkSources(config, options.env ?? process.env) : []),
    ...(await checkEncryption(config.backup.encryption, { identity: full })),
  ];
  if (issues.length > 0) throw preflightError(config, issues);
}
