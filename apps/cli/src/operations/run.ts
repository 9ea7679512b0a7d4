import { type LoadedConfig, type RunOptions, type RunSummary, runBackup } from '@matric-backup/core';
import { recordRunAudit, type Warn } from '../audit.js';
import { exitCodeOfRun } from '../exit-codes.js';

/**
 * One backup run as every front end does it (`run`, `serve`): core's run, then
 * its audit line (a dry run changes nothing and writes none), naming `caller`
 * when a daemon ran it for someone. Prints nothing:
 * progress goes to `options.onEvent`, a failed audit write to `warn`.
 */
export async function backupNow(
  config: LoadedConfig,
  options: RunOptions,
  warn: Warn,
  caller?: string,
): Promise<RunSummary> {
  const summary = await runBackup(config, { exitCodeOf: exitCodeOfRun, ...options });
  if (!summary.dryRun) await recordRunAudit(config, summary, warn, caller);
  return summary;
}
