import {
  findShard,
  isMatricError,
  loadShardOwner,
  MatricError,
  newestOwnShard,
  selectDestinations,
  verifyShard,
} from '@matric-backup/core';
import { onEachDestination } from '../../destinations.js';
import { ApiError, describeApiError } from '../api/errors.js';
import type { Job } from '../jobs.js';
import type { Service } from '../service.js';
import { refuseWhenStopping } from './backup.js';

interface DestinationCheck {
  destination: string;
  ok: boolean;
  files_checked: number;
  bytes: number;
  problems: unknown[];
  warnings: string[];
}

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
  return service.jobs.start(
    'validate',
    caller,
    async (job) => {
      const owner = await loadShardOwner(config);
      const latest = (complete: Parameters<typeof newestOwnShard>[0]) =>
        newestOwnShard(complete, owner, new Date()).newest;
      const outcomes = await onEachDestination(
        config,
        selectDestinations(config, destinations),
        async (opened, destination) => {
          let manifest: Awaited<ReturnType<typeof findShard>>;
          try {
            manifest = await findShard(opened, id, { destination: destination.name, latest });
          } catch (error) {
            if (isMatricError(error) && error.code === 'SHARD_NOT_FOUND') return undefined;
            throw error;
          }
          job.shard = manifest.id;
          job.progress = { phase: 'validate', destination: destination.name };
          return verifyShard(opened, manifest, {
            ...(encryption?.identity_file && { identity: encryption.identity_file }),
            ...(encryption?.gpg_homedir && { gpgHomedir: encryption.gpg_homedir }),
          });
        },
      );
      const checks: DestinationCheck[] = [];
      for (const outcome of outcomes) {
        const destination = outcome.destination.name;
        if (outcome.ok && outcome.value === undefined) continue;
        if (outcome.ok) {
          const result = outcome.value!;
          checks.push({
            destination,
            ok: result.ok,
            files_checked: result.filesChecked,
            bytes: result.bytes,
            problems: result.problems,
            warnings: result.warnings,
          });
        } else {
          const { error } = describeApiError(outcome.error, service.redact);
          checks.push({
            destination,
            ok: false,
            files_checked: 0,
            bytes: 0,
            problems: [error],
            warnings: [],
          });
        }
      }
      if (checks.length === 0) {
        throw new MatricError('SHARD_NOT_FOUND', `shard ${id} is on none of the destinations searched`);
      }
      const valid = checks.every((check) => check.ok);
      job.result = { backup_id: job.shard ?? id, valid, destinations: checks };
      if (!valid) {
        service.log.warn({ shard: job.shard ?? id, job: job.id, caller }, 'backup validation failed');
        throw new ApiError(422, 'VALIDATION_FAILED', 'backup validation failed', {
          destinations: checks.filter((check) => !check.ok),
        });
      }
      return job.result;
    },
    id,
  );
}
