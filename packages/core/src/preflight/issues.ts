import { ConfigError, type ConfigIssue } from '@matric-backup/plugin-api';
import type { ConfigPath } from '../config/source.js';
import { formatPath } from '../config/source.js';
import type { LoadedConfig } from '../config/types.js';

/** A problem found before a run, at the config key it comes from. */
export interface PreflightIssue {
  path: ConfigPath;
  message: string;
}

/** One ConfigError (exit 2) listing every problem in file order, each with its key path and line. */
export function preflightError(config: LoadedConfig, found: readonly PreflightIssue[]): ConfigError {
  const issues: ConfigIssue[] = found.map(({ path, message }) => ({
    path: config.displayPath?.(path) ?? formatPath(path),
    message,
    ...config.positionOf?.(path),
  }));
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return new ConfigError(issues, config.file, {
    hint: 'fix what each line says, then run `matric-backup check`',
  });
}
