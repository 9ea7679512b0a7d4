import { acquireRunLock, type LoadedConfig } from '@matric-backup/core';

/**
 * Commands that delete shards take the config's run lock, so they never race a
 * run (its own retention, or a shard still being stored); LOCKED exits 4.
 */
export async function withRunLock<T>(config: LoadedConfig, work: () => Promise<T>): Promise<T> {
  const lock = await acquireRunLock(config.backup.state_dir, config.file);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
