import { isMatricError, type RunEvent, type RunOptions } from '@matric-backup/core';
import { runDocument } from '../../documents/run.js';
import { backupNow } from '../../operations/run.js';
import { logRunEvents } from '../../output/log-events.js';
import { ApiError } from '../api/errors.js';
import type { Job } from '../jobs.js';
import type { Service } from '../service.js';
import { refreshHealth } from './health.js';

export interface BackupRequest {
  destinations?: string[];
  type?: RunOptions['type'];
  dryRun?: boolean;
  prune?: boolean;
}

/**
 * Starts a backup job on the runner (refused with BUSY while one runs), with
 * retention after it unless `prune` is false. The job's result is the run's
 * summary; a run that stored nothing fails the job with the run's error.
 */
export function startBackup(service: Service, caller: string, request: BackupRequest): Job {
  refuseWhenStopping(service);
  const config = service.config;
  const log = service.log.child({ caller });
  return service.runner.start('backup', caller, async (job) => {
    const summary = await backupNow(
      config,
      {
        ...(request.destinations && { destinations: request.destinations }),
        dryRun: request.dryRun === true,
        prune: request.prune !== false,
        ...(request.type && { type: request.type }),
        onEvent: (event) => {
          if (event.type === 'hook-output') log.info({ hook: event.hook, job: job.id }, event.line);
          job.progress = progressOf(event) ?? job.progress;
        },
      },
      (message) => log.warn(message),
      caller,
    ).catch((error: unknown) => {
      // Another process (a `run` of the CLI) holds the config's run lock: this run is skipped.
      if (isMatricError(error) && error.code === 'LOCKED') {
        service.metrics.observeSkipped();
        log.warn({ job: job.id, reason: service.redact(error.message) }, 'backup skipped');
      }
      throw error;
    });
    job.shard = summary.id;
    job.result = runDocument(summary);
    if (!summary.dryRun) {
      service.metrics.observeRun(summary);
      // The gauges follow on the next health check or run if the destinations cannot be read now.
      await refreshHealth(service, config).catch((error: unknown) =>
        log.warn({ error: (error as Error).message }, 'health after the run could not be computed'),
      );
    }
    logRunEvents(log, config, summary, { job: job.id });
    if (summary.status === 'failed') {
      throw new ApiError(
        500,
        summary.error?.code ?? 'INTERNAL_ERROR',
        summary.error?.message ?? 'the run failed',
        {
          ...(summary.error?.hint && { hint: summary.error.hint }),
        },
      );
    }
    return job.result;
  });
}

/** SIGTERM was received: what runs finishes, nothing new starts. */
export function refuseWhenStopping(service: Service): void {
  if (service.stopping) {
    throw new ApiError(503, 'SHUTTING_DOWN', 'the service is stopping and accepts no new work');
  }
}

function progressOf(event: RunEvent): Record<string, unknown> | undefined {
  switch (event.type) {
    case 'archive-start':
      return { phase: 'archive', files: 0, bytes_in: 0 };
    case 'archive-progress':
    case 'archive-done':
      return { phase: 'archive', files: event.files, bytes_in: event.bytesIn, bytes_out: event.bytesOut };
    case 'upload-start':
    case 'upload-progress':
      return {
        phase: 'upload',
        destination: event.destination,
        bytes: 'bytes' in event ? event.bytes : 0,
        total: event.size,
      };
    default:
      return undefined;
  }
}
