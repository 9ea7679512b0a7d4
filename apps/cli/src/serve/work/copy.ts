import { MatricError } from '@matric-backup/core';
import { copyBackups } from '../../operations/copy.js';
import { ApiError } from '../api/errors.js';
import type { Job } from '../jobs.js';
import type { Service } from '../service.js';
import { refuseWhenStopping } from './backup.js';

export interface CopyRequest {
  ids?: string[];
  all?: boolean;
  from: string;
  to: string;
  dryRun?: boolean;
}

/**
 * Starts a copy job on the runner (it writes shards, so never beside a backup
 * or a deletion): the shards named, or every one with `all`, from one configured
 * destination to another, as `matric-backup copy` does. The job's result is the
 * copy's report; a shard that failed fails the job with COPY_FAILED and the
 * failed shards in its details (the others stay copied).
 */
export function startCopy(service: Service, caller: string, request: CopyRequest): Job {
  refuseWhenStopping(service);
  const ids = request.ids ?? [];
  if (ids.length > 0 === (request.all === true)) {
    throw new MatricError(
      'USAGE',
      ids.length > 0 ? 'give ids or all, not both' : 'name the shards to copy (ids) or give all: true',
      { hint: 'e.g. {"ids": ["latest"], "from": "disk", "to": "offsite"}' },
    );
  }
  const config = service.config;
  // Answered now (400), not as a job that fails later.
  for (const name of [request.from, request.to]) {
    if (!config.destinations.some((destination) => destination.name === name)) {
      throw new MatricError(
        'USAGE',
        `unknown destination "${name}"; ${config.file} configures ${config.destinations.map((d) => d.name).join(', ')}`,
        { hint: 'name configured destinations in from and to' },
      );
    }
  }
  const log = service.log.child({ caller });
  return service.runner.start(
    'copy',
    caller,
    async (job) => {
      const report = await copyBackups(
        config,
        {
          ids,
          all: request.all === true,
          from: request.from,
          to: request.to,
          dryRun: request.dryRun === true,
          caller,
          onShardStart: (manifest) => {
            job.shard = manifest.id;
            return {
              update: (bytes) => {
                job.progress = { phase: 'copy', shard: manifest.id, bytes, total: manifest.object.size };
              },
              stop: () => undefined,
            };
          },
        },
        (message) => log.warn(message),
      );
      job.result = report;
      const failed = report.shards.filter((row) => row.status === 'failed');
      if (failed.length > 0) {
        log.error({ from: report.from, to: report.to, job: job.id }, 'copy failed');
        throw new ApiError(
          502,
          'COPY_FAILED',
          `${failed.length} of ${report.shards.length} shard(s) could not be copied from ${report.from} to ${report.to}`,
          { shards: failed },
        );
      }
      log.info({ from: report.from, to: report.to, job: job.id, shards: report.shards.length }, 'copy done');
      return report;
    },
    ids.length === 1 ? ids[0] : undefined,
  );
}
