import {
  type HistoryRecord,
  type LoadedConfig,
  type RunRecord,
  readHistory,
  readRunHistory,
} from '@matric-backup/core';
import { exitCodeOfRun } from '../exit-codes.js';

/** This config's past backup runs from its state folder, newest first, at most `limit`; nothing printed. */
export async function runHistory(
  config: LoadedConfig,
  options: { limit?: number } = {},
): Promise<RunRecord[]> {
  return readRunHistory(config.backup.state_dir, { config: config.file, limit: options.limit });
}

/** Everything this config did, backups, verifies and prunes, newest first, at most `limit`. */
export async function eventHistory(
  config: LoadedConfig,
  options: { limit?: number } = {},
): Promise<HistoryRecord[]> {
  return readHistory(config.backup.state_dir, { config: config.file, limit: options.limit });
}

/** A record as `history --json` and mcp show it: its kind first (older backups have none), the command's exit code. */
export function historyEntry(record: HistoryRecord) {
  return { kind: record.kind ?? 'backup', ...record, exit_code: exitCodeOfRun(record.status) };
}
