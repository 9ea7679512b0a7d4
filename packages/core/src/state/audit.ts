import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { appendLine, ensureStateDir } from './files.js';

export type AuditAction = 'run' | 'restore' | 'delete' | 'prune' | 'verify' | 'copy';

export interface AuditEntry {
  action: AuditAction;
  config: string;
  shard?: string;
  destinations: string[];
  result: 'success' | 'warning' | 'partial' | 'failed' | 'dry-run';
  /** Who asked a daemon for it (`uid:1000`, `token:ops`); absent when the user ran the command. */
  caller?: string;
  details?: Record<string, unknown>;
}

export const AUDIT_LOG = 'audit.log';

/** One JSON line per operation that reads or changes backups. */
export async function writeAudit(stateDir: string, entry: AuditEntry, now = new Date()): Promise<void> {
  await ensureStateDir(stateDir);
  const line = { time: now.toISOString(), user: currentUser(), host: hostname(), ...entry };
  await appendLine(join(stateDir, AUDIT_LOG), JSON.stringify(line));
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
