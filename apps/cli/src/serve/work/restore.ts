import { isAbsolute } from 'node:path';
import type { ConflictStrategy } from '@matric-backup/core';
import { restoreDocument } from '../../documents/restore.js';
import { errorRecord } from '../../exit-codes.js';
import { restoreBackup } from '../../operations/restore.js';
import { checkRestoreTarget } from '../../operations/restore-roots.js';
import { logRestoreEvent } from '../../output/log-events.js';
import { ApiError } from '../api/errors.js';
import type { Job } from '../jobs.js';
import type { Service } from '../service.js';
import { refuseWhenStopping } from './backup.js';

export interface RestoreApiRequest {
  id: string;
  to: string;
  conflict?: ConflictStrategy;
  include?: string[];
  dryRun?: boolean;
  destinations?: string[];
}

/**
 * Starts a restore job into `to`, which must lie inside one of
 * `backup.api.restore_roots` (symbolic links resolved): the API never writes
 * anywhere else. Refused at once (403) otherwise, before any job exists.
 */
export async function startRestore(
  service: Service,
  caller: string,
  request: RestoreApiRequest,
): Promise<Job> {
  refuseWhenStopping(service);
  const config = service.config;
  const to = await allowedTarget(request.to, service.settings.restoreRoots);
  const log = service.log.child({ caller });
  return service.jobs.start(
    'restore',
    caller,
    async (job) => {
      const started = performance.now();
      const result = await restoreBackup(
        config,
        {
          id: request.id,
          to,
          dryRun: request.dryRun === true,
          ...(request.conflict && { conflict: request.conflict }),
          ...(request.include?.length && { include: request.include }),
          ...(request.destinations && { destinations: request.destinations }),
          onProgress: (progress) => {
            job.progress = { phase: 'restore', bytes: progress.bytes, total: progress.total };
          },
          caller,
        },
        (message) => log.warn(message),
      ).catch((error: unknown) => {
        const { code, message } = errorRecord(error);
        service.metrics.observeRestore({ durationMs: performance.now() - started, error: { code } });
        logRestoreEvent(
          log,
          { id: request.id, error: { code, message: service.redact(message) } },
          { job: job.id },
        );
        throw error;
      });
      if (!result.dryRun) service.metrics.observeRestore({ durationMs: result.durationMs });
      job.shard = result.id;
      logRestoreEvent(log, { result }, { job: job.id });
      // As `restore --json` (a restore of a million files keeps only its non-create changes).
      return restoreDocument({ destination: result.destination }, result);
    },
    request.id,
  );
}

/** The target, resolved, if checkRestoreTarget lets the API write there; else a 400 or 403. */
async function allowedTarget(target: string, roots: readonly string[]): Promise<string> {
  if (!isAbsolute(target)) {
    throw new ApiError(
      400,
      'INVALID_PARAMETER',
      `"to" must be an absolute path, not ${JSON.stringify(target)}`,
    );
  }
  const checked = await checkRestoreTarget(target, roots);
  if (checked.inside) return checked.path;
  throw new ApiError(
    403,
    'RESTORE_NOT_ALLOWED',
    `cannot restore into ${target}: ${checked.reason} (backup.api.restore_roots)`,
    {
      restore_roots: roots,
      hint: 'restore into a new folder inside one of them, or add a root to the config',
    },
  );
}
