import { type AuditEntry, type LoadedConfig, type RunSummary, writeAudit } from '@matric-backup/core';
import { exitCodeOfRun } from './exit-codes.js';
import type { Printer } from './output/printer.js';

/**
 * Appends the command's line to `<state_dir>/audit.log`. A state folder that
 * cannot be written is a warning: the deletion or restore already happened, and
 * failing now would hide what it did.
 */
export async function recordAudit(
  printer: Printer,
  config: LoadedConfig,
  entry: Omit<AuditEntry, 'config'>,
): Promise<void> {
  try {
    await writeAudit(config.backup.state_dir, { config: config.file, ...entry });
  } catch (error) {
    printer.warn(`could not write the audit log in ${config.backup.state_dir}: ${(error as Error).message}`);
  }
}

/** The audit line of a finished backup run: where the shard went, what retention removed. */
export async function recordRunAudit(
  printer: Printer,
  config: LoadedConfig,
  summary: RunSummary,
): Promise<void> {
  const pruned = Object.fromEntries(
    summary.destinations
      .filter((result) => result.prune?.deleted.length)
      .map((result) => [result.name, result.prune!.deleted]),
  );
  await recordAudit(printer, config, {
    action: 'run',
    ...(summary.archive ? { shard: summary.id } : {}),
    destinations: summary.destinations.map((result) => result.name),
    result: summary.status,
    details: {
      exit_code: exitCodeOfRun(summary.status),
      stored_on: summary.destinations.filter((r) => r.status === 'success').map((r) => r.name),
      ...(summary.archive ? { bytes: summary.archive.size } : {}),
      ...(summary.sourceWarnings.length ? { warnings: summary.sourceWarnings.length } : {}),
      ...(Object.keys(pruned).length ? { pruned } : {}),
    },
  });
}
