import { type LoadedConfig, notify, writeMaintenanceMetricsFile } from '@matric-backup/core';
import type { Warn } from '../audit.js';

export interface MaintenanceOutcome {
  kind: 'verify' | 'prune';
  startedAt: number;
  destinations: Array<{ name: string; type: string; required: boolean; ok: boolean; deleted?: number }>;
  /** The first failure, for the notification's `error`. */
  error?: { code: string; message: string };
  metricsFile?: string;
}

/**
 * What follows a `verify` or a `prune` (CLI and daemon alike): its event
 * (`verify.success` / `verify.failure`, `prune.*`) to the configured webhooks,
 * ntfy and mail, following on_success / on_failure, and its textfile metrics
 * when asked. Neither changes the command's outcome: a failure is a warning.
 */
export async function reportMaintenance(
  config: LoadedConfig,
  outcome: MaintenanceOutcome,
  warn: Warn,
): Promise<void> {
  const ok = outcome.destinations.every((destination) => destination.ok);
  const durationMs = Date.now() - outcome.startedAt;
  const sent = await notify(
    config.backup.notifications,
    {
      status: ok ? 'success' : 'failed',
      event: `${outcome.kind}.${ok ? 'success' : 'failure'}`,
      durationMs,
      configFile: config.file,
      host: config.backup.source_instance,
      destinations: outcome.destinations.map((destination) => ({
        name: destination.name,
        type: destination.type,
        required: destination.required,
        status: destination.ok ? 'success' : 'failed',
        bytes: 0,
        attempts: 0,
      })),
      ...(outcome.error && { error: outcome.error }),
    },
    { secrets: config.secrets },
  );
  for (const result of sent)
    if (!result.ok) warn(`notification by ${result.channel} failed: ${result.error}`);
  if (!outcome.metricsFile) return;
  try {
    await writeMaintenanceMetricsFile(outcome.metricsFile, {
      kind: outcome.kind,
      identity: { config: config.backup.name, sourceInstance: config.backup.source_instance },
      ok,
      finishedAt: new Date(),
      durationMs,
      destinations: outcome.destinations,
    });
  } catch (error) {
    warn(`could not write the metrics file ${outcome.metricsFile}: ${(error as Error).message}`);
  }
}
