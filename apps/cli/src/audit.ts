import { type AuditEntry, type LoadedConfig, type RunSummary, writeAudit } from '@matric-backup/core';
import { exitCodeOfRun } from './exit-codes.js';

/** Where a warning goes: the printer's stderr in the CLI, the log in `serve`. */
export type Warn = (message: string) => void;

/**
 * Appends the command's line to `<state_dir>/audit.log`. A state folder that
 * cannot be written is a warning: the deletion or restore already happened, and
 * failing now would hide what it did.
 */
export async function recordAudit(
  config: LoadedConfig,
  entry: Omit<AuditEntry, 'config'>,
  warn: Warn,
): Promise<void> {
  try {
    await writeAudit(config.backup.state_dir, { config: config.file, ...entry });
  } catch (error) {
    warn(`could not write the audit log in ${config.backup.state_dir}: ${(error as Error).message}`);
  }
}

/** The audit line of a finished backup run: where the shard went, what retention removed. */
export async function recordRunAudit(
  config: LoadedConfig,
  summary: RunSummary,
  warn: Warn,
  caller?: string,
): Promise<void> {
  const pruned = Object.fromEntries(
    summary.destinations
      .filter((result) => result.prune?.deleted.length)
      .map((result) => [result.name, result.prune!.deleted]),
  );
  await recordAudit(
    config,
    {
      action: 'run',
      ...(summary.archive ? { shard: summary.id } : {}),
      destinations: summary.destinations.map((result) => result.name),
      result: summary.status,
      ...(caller !== undefined && { caller }),
      details: {
        exit_code: exitCodeOfRun(summary.status),
        stored_on: summary.destinations.filter((r) => r.status === 'success').map((r) => r.name),
        ...(summary.archive ? { bytes: summary.archive.size } : {}),
        ...(summary.sourceWarnings.length ? { warnings: summary.sourceWarnings.length } : {}),
        ...(Object.keys(pruned).length ? { pruned } : {}),
      },
    },
    warn,
  );
}
