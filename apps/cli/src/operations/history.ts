import { type LoadedConfig, type RunRecord, readRunHistory } from '@matric-backup/core';

/** This config's past runs from its state folder, newest first, at most `limit`; nothing printed. */
export async function runHistory(
  config: LoadedConfig,
  options: { limit?: number } = {},
): Promise<RunRecord[]> {
  return readRunHistory(config.backup.state_dir, { config: config.file, limit: options.limit });
}
