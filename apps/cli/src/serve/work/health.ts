import type { LoadedConfig } from '@matric-backup/core';
import { type BackupHealth, computeBackupHealth } from '../health.js';
import type { Service } from '../service.js';

/** The default when no schedule says how often a backup is due: two days. */
const UNSCHEDULED_MAX_AGE_MS = 48 * 3_600_000;

/**
 * `/health/backup` now, also fed to the metrics' destination gauges (retained shards, newest
 * shard, free space), so those follow every run and every health check.
 */
export async function refreshHealth(
  service: Service,
  config: LoadedConfig = service.config,
): Promise<BackupHealth> {
  const health = await computeBackupHealth(config, {
    maxAgeMs: service.schedule()?.maxAgeMs ?? UNSCHEDULED_MAX_AGE_MS,
  });
  service.metrics.observeHealth(health);
  return health;
}
