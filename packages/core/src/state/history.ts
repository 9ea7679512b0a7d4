import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ShardType } from '../shard/manifest.js';
import type { Warning } from '../util/warning.js';
import { appendLine, ensureStateDir } from './files.js';

/** One finished run as `history` shows it; the run summary plus where and when. */
export interface RunRecord {
  /** Absent in records written before verify and prune were recorded: a backup. */
  kind?: 'backup';
  id: string;
  config: string;
  /** backup.name of the config (absent in records written before configs had names). */
  writer?: string;
  started_at: string;
  finished_at: string;
  /** `warning`: stored, but `warnings` paths were not archived whole. */
  status: 'success' | 'warning' | 'partial' | 'failed';
  duration_ms: number;
  /** The kind of shard the run made; absent in records written before incrementals. */
  type?: ShardType;
  /** Bytes of the stored archive (what each destination got, besides the sidecar). */
  bytes?: number;
  /** How many paths vanished, could not be read or changed while read (the manifest lists them). */
  warnings?: number;
  /** sha256 of the stored archive. */
  sha256?: string;
  destinations: Array<{
    name: string;
    status: 'success' | 'failed' | 'skipped';
    bytes: number;
    duration_ms: number;
    attempts: number;
    error?: { code: string; message: string };
  }>;
  error?: { code: string; message: string };
  /** The hooks after the run that failed (HOOK_FAILED warnings: hook, command, exit code or signal, output tail). */
  hook_failures?: Warning[];
}

/** One finished `verify` or `prune` (or `cleanup`) as `history` shows it: what it did to which shards where. */
export interface MaintenanceRecord {
  kind: 'verify' | 'prune';
  config: string;
  writer?: string;
  started_at: string;
  finished_at: string;
  /** `failed`: a destination could not be read, a shard did not verify or could not be deleted. */
  status: 'success' | 'failed';
  duration_ms: number;
  destinations: Array<{
    name: string;
    status: 'success' | 'failed';
    /** verify: the shards checked there (passed or not). */
    verified?: string[];
    /** prune: the shards deleted there. */
    deleted?: string[];
    /** The shards that did not verify, or could not be deleted, and why. */
    failed: Array<{ id: string; message: string }>;
    error?: { code: string; message: string };
  }>;
  error?: { code: string; message: string };
}

/** A line of the history file: a backup run, or a verify or prune. */
export type HistoryRecord = RunRecord | MaintenanceRecord;

export const HISTORY_FILE = 'runs.jsonl';

export async function recordRun(stateDir: string, record: HistoryRecord): Promise<void> {
  await ensureStateDir(stateDir);
  await appendLine(join(stateDir, HISTORY_FILE), JSON.stringify(record));
}

/** A backup run's record (older records have no kind: they are all backups). */
export function isBackupRecord(record: HistoryRecord): record is RunRecord {
  return record.kind === undefined || record.kind === 'backup';
}

/**
 * The backup runs only, newest first: what retention, the scheduler's catch-up and
 * the health of a destination reason about (a verify or prune stores nothing).
 */
export async function readRunHistory(
  stateDir: string,
  options: { config?: string; limit?: number } = {},
): Promise<RunRecord[]> {
  const runs = (await readHistory(stateDir, { config: options.config })).filter(isBackupRecord);
  return options.limit === undefined ? runs : runs.slice(0, options.limit);
}

/** Every record, backups, verifies and prunes, newest first; a damaged line (a crash mid-write) is skipped. */
export async function readHistory(
  stateDir: string,
  options: { config?: string; limit?: number } = {},
): Promise<HistoryRecord[]> {
  const text = await readFile(join(stateDir, HISTORY_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const records: HistoryRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as HistoryRecord;
      if (!options.config || record.config === options.config) records.push(record);
    } catch {
      // a torn last line from a crashed writer
    }
  }
  records.reverse();
  return options.limit === undefined ? records : records.slice(0, options.limit);
}
