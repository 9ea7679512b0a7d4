import type { LoadedConfig } from '../config/types.js';
import { writeMetricsFile } from '../metrics/textfile.js';
import { notify } from '../notify/notify.js';
import { recordRun } from '../state/history.js';
import { redact } from '../util/redact.js';
import { type Warning, warning } from '../util/warning.js';
import type { RunOptions, RunSummary } from './types.js';

/**
 * What follows a finished run: the run record, notifications and the metrics
 * file (the audit line is the CLI's, like every other command's). None of them changes the run's
 * outcome: each failure is a warning in the summary, so a full state disk or a
 * dead webhook never turns a stored backup into a failed one.
 */
export async function finishRun(
  config: LoadedConfig,
  summary: RunSummary,
  options: Pick<RunOptions, 'metricsFile' | 'onEvent'> & { log?: string[] },
): Promise<RunSummary> {
  const warn = (found: Warning) => {
    const clean = { ...found, message: redact(found.message, config.secrets) };
    summary.warnings.push(clean);
    try {
      options.onEvent?.({ type: 'warning', warning: clean });
    } catch {
      // A failing progress listener must not fail the backup.
    }
  };
  const { state_dir: stateDir } = config.backup;
  const finishedAt = new Date(Date.parse(summary.startedAt) + summary.durationMs);
  const stored = summary.archive ? summary.id : undefined;
  const brief = (error?: { code: string; message: string }) =>
    error && { code: error.code, message: error.message };
  const hookFailures = summary.warnings.filter((found) => found.code === 'HOOK_FAILED');

  try {
    await recordRun(stateDir, {
      kind: 'backup',
      id: summary.id,
      config: config.file,
      writer: config.backup.name,
      started_at: summary.startedAt,
      finished_at: finishedAt.toISOString(),
      status: summary.status,
      duration_ms: summary.durationMs,
      type: summary.type,
      ...(summary.archive ? { bytes: summary.archive.size, sha256: summary.archive.sha256 } : {}),
      ...(summary.sourceWarnings.length ? { warnings: summary.sourceWarnings.length } : {}),
      destinations: summary.destinations.map((result) => ({
        name: result.name,
        status: result.status,
        bytes: result.bytes,
        duration_ms: result.durationMs,
        attempts: result.attempts,
        ...(result.error ? { error: brief(result.error) } : {}),
      })),
      ...(summary.error ? { error: brief(summary.error) } : {}),
      ...(hookFailures.length ? { hook_failures: hookFailures } : {}),
    });
  } catch (error) {
    warn(
      warning('STATE_WRITE_FAILED', `could not record the run in ${stateDir}: ${(error as Error).message}`),
    );
  }

  // A failed optional destination leaves the run a success (exit 0) but is heard of: a warning event.
  const optionalFailed = summary.destinations.some(
    (result) => !result.required && result.status === 'failed',
  );
  const sent = await notify(
    config.backup.notifications,
    {
      status: summary.status === 'success' && optionalFailed ? 'warning' : summary.status,
      log: [...(options.log ?? [])],
      ...(stored ? { shardId: stored, sizeBytes: summary.archive!.size } : {}),
      shardType: summary.type,
      ...(summary.manifest?.type === 'incremental' ? { changes: summary.manifest.changes } : {}),
      durationMs: summary.durationMs,
      configFile: config.file,
      host: config.backup.source_instance,
      destinations: summary.destinations.map((result) => ({
        name: result.name,
        type: result.type,
        required: result.required,
        status: result.status,
        bytes: result.bytes,
        attempts: result.attempts,
        ...(result.error ? { error: brief(result.error) } : {}),
      })),
      ...(summary.error ? { error: brief(summary.error) } : {}),
      ...(summary.sourceWarnings.length ? { warnings: summary.sourceWarnings } : {}),
      ...(hookFailures.length ? { hookFailures } : {}),
    },
    { secrets: config.secrets },
  );
  for (const result of sent)
    if (!result.ok)
      warn(
        warning('NOTIFICATION_FAILED', `notification by ${result.channel} failed: ${result.error}`, {
          channel: result.channel,
        }),
      );

  if (options.metricsFile) {
    try {
      await writeMetricsFile(options.metricsFile, {
        identity: { config: config.backup.name, sourceInstance: config.backup.source_instance },
        status: summary.status,
        finishedAt,
        durationMs: summary.durationMs,
        type: summary.type,
        destinations: summary.destinations,
        warnings: summary.sourceWarnings.length,
      });
    } catch (error) {
      warn(
        warning(
          'METRICS_WRITE_FAILED',
          `could not write the metrics file ${options.metricsFile}: ${(error as Error).message}`,
        ),
      );
    }
  }
  return summary;
}
