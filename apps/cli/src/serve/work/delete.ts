import { MatricError, parseShardId } from '@matric-backup/core';
import { deleteBackup, refuseWithDependents } from '../../operations/delete.js';
import { ApiError } from '../api/errors.js';
import type { Job } from '../jobs.js';
import type { Service } from '../service.js';
import { refuseWhenStopping } from './backup.js';

/**
 * Starts a deletion job on the runner (never beside a backup): shard `id` from
 * every selected destination holding it, archive first, then its sidecar; a
 * shard that incremental shards need only with `withDependents` (they go first),
 * else refused before any job exists.
 */
export async function startDelete(
  service: Service,
  caller: string,
  id: string,
  options: { destinations?: string[]; withDependents: boolean },
): Promise<Job> {
  refuseWhenStopping(service);
  if (!parseShardId(id)) {
    throw new MatricError('USAGE', `"${id}" is not a shard id (like backup_20250131_020004)`);
  }
  const config = service.config;
  // Answered now (409 HAS_DEPENDENTS), not as a job that fails later; the job checks again when it runs.
  if (!options.withDependents) {
    await refuseWithDependents(config, {
      id,
      ...(options.destinations && { destinations: options.destinations }),
    });
  }
  const log = service.log.child({ caller });
  return service.runner.start(
    'delete',
    caller,
    async (job) => {
      const outcome = await deleteBackup(config, { id, ...options, caller }, (message) => log.warn(message));
      job.result = { backup_id: id, destinations: outcome.destinations };
      if (outcome.failed) {
        log.error({ shard: id, job: job.id }, 'backup deletion failed');
        throw new ApiError(502, 'DELETE_FAILED', `shard ${id} could not be deleted from every destination`, {
          destinations: outcome.destinations.filter((row) => row.error),
        });
      }
      log.info({ shard: id, job: job.id }, 'backup deleted');
      return job.result;
    },
    id,
  );
}
