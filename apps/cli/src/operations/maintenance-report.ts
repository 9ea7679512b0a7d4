import { type LoadedConfig, notify, recordRun, writeMaintenanceMetricsFile } from '@matric-backup/core';
import type { Warn } from '../audit.js';
import { failureSummary } from '../output/verify-report.js';
import type { VerifyLine } from './verify.js';

export interface MaintenanceOutcome {
  kind: 'verify' | 'prune';
  startedAt: number;
  destinations: Array<{
    name: string;
    type: string;
    required: boolean;
    ok: boolean;
    /** verify: the shards checked there. */
    verified?: string[];
    /** prune: the shards deleted there. */
    deleted?: string[];
    /** Shards that did not verify or could not be deleted. */
    failed?: Array<{ id: string; message: string }>;
    /** What kept the destination from being read at all. */
    error?: { code: string; message: string };
  }>;
  /** The first failure, for the notification's `error`. */
  error?: { code: string; message: string };
  metricsFile?: string;
}

/**
 * What follows a `verify` or a `prune` (CLI and daemon alike): its record in the
 * run history, its event (`verify.success` / `verify.failure`, `prune.*`) to the
 * configured webhooks, ntfy and mail, following on_success / on_failure, and its
 * textfile metrics when asked. None changes the command's outcome: a failure is a warning.
 */
export async function reportMaintenance(
  config: LoadedConfig,
  outcome: MaintenanceOutcome,
  warn: Warn,
): Promise<void> {
  const ok = outcome.destinations.every((destination) => destination.ok);
  const finishedAt = new Date();
  const durationMs = finishedAt.getTime() - outcome.startedAt;
  try {
    await recordRun(config.backup.state_dir, {
      kind: outcome.kind,
      config: config.file,
      writer: config.backup.name,
      started_at: new Date(outcome.startedAt).toISOString(),
      finished_at: finishedAt.toISOString(),
      status: ok ? 'success' : 'failed',
      duration_ms: durationMs,
      destinations: outcome.destinations.map((destination) => ({
        name: destination.name,
        status: destination.ok ? 'success' : 'failed',
        ...whatItDid(outcome.kind, destination),
      })),
      ...(outcome.error && { error: outcome.error }),
    });
  } catch (error) {
    warn(`could not record the ${outcome.kind} in ${config.backup.state_dir}: ${(error as Error).message}`);
  }
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
        ...whatItDid(outcome.kind, destination),
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
      finishedAt,
      durationMs,
      destinations: outcome.destinations.map((destination) => ({
        name: destination.name,
        ok: destination.ok,
        deleted: destination.deleted?.length ?? 0,
      })),
    });
  } catch (error) {
    warn(`could not write the metrics file ${outcome.metricsFile}: ${(error as Error).message}`);
  }
}

/** A verify's outcome from its lines: per destination the shards checked, those that failed and why. */
export function verifyOutcome(
  config: LoadedConfig,
  lines: VerifyLine[],
  startedAt: number,
): MaintenanceOutcome {
  const failed = lines.find((line) => !line.ok);
  return {
    kind: 'verify',
    startedAt,
    destinations: config.destinations
      .filter((destination) => lines.some((line) => line.destination === destination.name))
      .map((destination) => {
        const here = lines.filter((line) => line.destination === destination.name);
        // A line without an id is the destination itself failing to answer.
        const unread = here.find((line) => !line.id)?.problems[0];
        return {
          name: destination.name,
          type: destination.type,
          required: destination.required,
          ok: here.every((line) => line.ok),
          verified: [...new Set(here.filter((line) => line.id).map((line) => line.id))],
          failed: here
            .filter((line) => line.id && !line.ok)
            .map((line) => ({ id: line.id, message: failureSummary(line) })),
          ...(unread && { error: { code: unread.code, message: unread.reason } }),
        };
      }),
    ...(failed && {
      error: {
        code: 'VERIFY_FAILED',
        message: `destination "${failed.destination}"${failed.id ? ` shard "${failed.id}"` : ''}: ${failureSummary(failed)}`,
      },
    }),
  };
}

/** What a verify or prune did on one destination, as the history record and the notification say it. */
function whatItDid(
  kind: MaintenanceOutcome['kind'],
  destination: MaintenanceOutcome['destinations'][number],
) {
  return {
    ...(kind === 'verify'
      ? { verified: destination.verified ?? [] }
      : { deleted: destination.deleted ?? [] }),
    failed: destination.failed ?? [],
    ...(destination.error && { error: destination.error }),
  };
}
