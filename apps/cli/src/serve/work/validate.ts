import { reportMaintenance, verifyOutcome } from '../../operations/maintenance-report.js';
import { verifyBackups } from '../../operations/verify.js';
import { ApiError } from '../api/errors.js';
import type { Job } from '../jobs.js';
import type { Service } from '../service.js';
import { refuseWhenStopping } from './backup.js';

/**
 * Starts a validation job: shard `id` (or `latest`) re-read on every selected
 * destination that holds it, its object against the sidecar and every file
 * against the inner manifest. Damage anywhere fails the job with
 * VALIDATION_FAILED, each destination's problems in its details.
 */
export function startValidate(service: Service, caller: string, id: string, destinations?: string[]): Job {
  refuseWhenStopping(service);
  const config = service.config;
  const encryption = config.backup.encryption;
  const log = service.log.child({ caller });
  return service.jobs.start(
    'validate',
    caller,
    async (job) => {
      const startedAt = Date.now();
      const report = await verifyBackups(config, {
        id,
        ...(destinations && { destinations }),
        ...(encryption?.identity_file && { identity: encryption.identity_file }),
        ...(encryption?.gpg_homedir && { gpgHomedir: encryption.gpg_homedir }),
        onShardStart: (destination, shard) => {
          job.shard = shard;
          return {
            update: (read) => {
              job.progress = { phase: 'validate', destination, bytes: read.bytes, total: read.total };
            },
            stop: () => undefined,
          };
        },
        onWarning: (destination, shard, warning) => log.warn({ destination, shard }, warning),
      });
      // Recorded in the history and notified as the CLI's verify is.
      await reportMaintenance(config, verifyOutcome(config, report.lines, startedAt), (message) =>
        log.warn(message),
      );
      const valid = report.lines.every((line) => line.ok);
      job.result = {
        backup_id: job.shard ?? id,
        valid,
        destinations: report.lines,
        ...(report.hints.length > 0 && { hints: report.hints }),
      };
      if (!valid) {
        log.warn({ shard: job.shard ?? id, job: job.id }, 'backup validation failed');
        throw new ApiError(422, 'VALIDATION_FAILED', 'backup validation failed', {
          destinations: report.lines.filter((line) => !line.ok),
        });
      }
      return job.result;
    },
    id,
  );
}
