import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ShardType } from '../shard/manifest.js';
import { appendLine, ensureStateDir } from './files.js';

/** One finished run as `history` shows it; the run summary plus where and when. */
export interface RunRecord {
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
}

export const HISTORY_FILE = 'runs.jsonl';

export async function recordRun(stateDir: string, record: RunRecord): Promise<void> {
  await ensureStateDir(stateDir);
  await appendLine(join(stateDir, HISTORY_FILE), JSON.stringify(record));
}

/** Newest first; a damaged line (a crash mid-write) is skipped rather than failing the listing. */
export async function readRunHistory(
  stateDir: string,
  options: { config?: string; limit?: number } = {},
): Promise<RunRecord[]> {
  const text = await readFile(join(stateDir, HISTORY_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const records: RunRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as RunRecord;
      if (!options.config || record.config === options.config) records.push(record);
    } catch {
      // a torn last line from a crashed writer
    }
  }
  records.reverse();
  return options.limit === undefined ? records : records.slice(0, options.limit);
}
