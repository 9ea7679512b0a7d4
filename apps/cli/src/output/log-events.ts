import type { LoadedConfig, RestoreResult, RunSummary } from '@matric-backup/core';
import type { EventLog } from './event-log.js';

/**
 * The log events of a backup run, under the original design's names and fields: `backup created`
 * (`backup_id`, `size_bytes`, `file_count`, `duration_ms`) or `backup creation failed` (`error`), then
 * per destination `backup cleanup completed`, `backup cleanup failed` or `backup cleanup skipped`
 * (`reason`). `extra` is added to each (the job id in `serve`).
 */
export function logRunEvents(
  log: EventLog,
  config: Pick<LoadedConfig, 'destinations'>,
  summary: RunSummary,
  extra: Record<string, unknown> = {},
): void {
  const destinations = summary.destinations.map((result) => ({
    name: result.name,
    status: result.status,
    ...(result.status === 'success' ? { bytes: result.bytes } : {}),
    ...(result.error ? { error: result.error.message, code: result.error.code } : {}),
  }));
  const base = { ...extra, backup_id: summary.id, duration_ms: summary.durationMs };
  if (summary.dryRun) {
    log.info(
      { ...base, file_count: summary.plan?.files, destinations: summary.plan?.destinations },
      'backup planned',
    );
    return;
  }
  if (summary.status === 'failed') {
    log.error(
      { ...base, error: summary.error?.message, code: summary.error?.code, destinations },
      'backup creation failed',
    );
    return;
  }
  const created = {
    ...base,
    status: summary.status,
    type: summary.type,
    ...(summary.fullReason ? { full_reason: summary.fullReason } : {}),
    size_bytes: summary.archive?.size,
    file_count: summary.archive?.files,
    ...(summary.sourceWarnings.length ? { warning_count: summary.sourceWarnings.length } : {}),
    destinations,
  };
  // A partial run stored the shard, but on fewer destinations than asked.
  if (summary.status === 'partial') log.warn(created, 'backup created');
  else log.info(created, 'backup created');

  for (const result of summary.destinations) {
    if (result.status !== 'success') continue;
    const fields = { ...extra, backup_id: summary.id, destination: result.name };
    const prune = result.prune;
    const policy = config.destinations.find((destination) => destination.name === result.name)?.retention;
    if (!prune)
      log.warn(
        { ...fields, reason: 'retention was turned off for this run (--no-prune)' },
        'backup cleanup skipped',
      );
    else if (prune.error)
      log.error({ ...fields, error: prune.error.message, code: prune.error.code }, 'backup cleanup failed');
    else {
      // Without a policy only the leftovers of killed uploads and failed runs are removed.
      const outcome = {
        ...fields,
        deleted: prune.deleted,
        ...(prune.failed.length ? { failed: prune.failed.map((failure) => failure.id) } : {}),
      };
      if (!policy) log.warn({ ...outcome, reason: 'no retention policy' }, 'backup cleanup skipped');
      else if (prune.failed.length > 0) log.warn(outcome, 'backup cleanup completed');
      else log.info(outcome, 'backup cleanup completed');
    }
  }
}

/** `backup restored` with the design's fields, or `backup restore failed`. */
export function logRestoreEvent(
  log: EventLog,
  outcome:
    | { result: RestoreResult & { destination?: string } }
    | { id: string; error: { code: string; message: string } },
  extra: Record<string, unknown> = {},
): void {
  if ('error' in outcome) {
    log.error(
      { ...extra, backup_id: outcome.id, error: outcome.error.message, code: outcome.error.code },
      'backup restore failed',
    );
    return;
  }
  const { result } = outcome;
  log.info(
    {
      ...extra,
      backup_id: result.id,
      duration_ms: result.durationMs,
      target: result.to,
      dry_run: result.dryRun,
      file_count: result.files,
      size_bytes: result.bytes,
      ...(result.destination ? { destination: result.destination } : {}),
      ...(result.chain ? { chain: result.chain } : {}),
    },
    result.dryRun ? 'backup restore planned' : 'backup restored',
  );
}
