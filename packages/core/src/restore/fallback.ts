import type { Destination } from '@matric-backup/plugin-api';
import { isDestinationError, isMatricError, MatricError } from '@matric-backup/plugin-api';
import { findShard } from '../shard/catalog.js';
import { RefusedEntry } from '../shard/entry-guard.js';
import { LimitExceededError } from '../shard/limits.js';
import { type RestoreOptions, type RestoreResult, restoreShard } from './restore.js';

/** A place that may hold the shard: a configured destination, opened on demand and closed after. */
export interface ShardLocation {
  name: string;
  open(): Promise<Destination>;
}

export interface RestoreFromOptions extends Omit<RestoreOptions, 'from' | 'manifest'> {
  /** Shard id, or `latest` (the newest on the first location that has any, then that id everywhere). */
  id: string;
  /** In order of preference (config order). */
  locations: readonly ShardLocation[];
  /** A location's copy could not be used and the next one is tried. */
  onFallback?: (location: string, error: unknown) => void;
}

/**
 * Restores from the first location that has the shard and whose copy passes
 * its checks: a location that cannot be reached, or whose copy is damaged,
 * unsafe or missing, is reported through `onFallback` and the next one is
 * tried. Every such failure happens before anything in the target changed.
 * Problems that another copy would not solve (the target, the key, a limit)
 * end the restore at once.
 */
export async function restoreFromLocations(
  options: RestoreFromOptions,
): Promise<RestoreResult & { destination: string }> {
  const { locations, onFallback, ...restoreOptions } = options;
  if (locations.length === 0) {
    throw new MatricError('USAGE', 'no destination to restore from: every destination is disabled', {
      hint: 'name one with -d, or restore a shard file by its path',
    });
  }
  let id = options.id;
  const absent: string[] = [];
  let copyProblem: unknown;
  for (const [index, location] of locations.entries()) {
    const isLast = index === locations.length - 1;
    let opened: Destination | undefined;
    try {
      opened = await location.open();
      const manifest = await findShard(opened, id, { destination: location.name }).catch((error: unknown) => {
        if (isMatricError(error) && error.code === 'SHARD_NOT_FOUND') return undefined;
        throw error;
      });
      if (!manifest) {
        absent.push(location.name);
        continue;
      }
      id = manifest.id;
      const restored = await restoreShard({ ...restoreOptions, from: opened, manifest });
      return { ...restored, destination: location.name };
    } catch (error) {
      if (isLast || !isCopyProblem(error)) throw error;
      copyProblem = error;
      onFallback?.(location.name, error);
    } finally {
      await opened?.close().catch(() => {
        // A failed close must not hide the restore's result or error.
      });
    }
  }
  // The copies that exist were all unusable: that is the news, not the places without one.
  if (copyProblem !== undefined) throw copyProblem;
  throw new MatricError(
    'SHARD_NOT_FOUND',
    `shard "${id}" is on none of: ${absent.join(', ') || locations.map((location) => location.name).join(', ')}`,
  );
}

/** Failures of one stored copy, or of reaching it, as opposed to the target, the key or the options. */
export function isCopyProblem(error: unknown): boolean {
  if (isDestinationError(error)) return true;
  if (!isMatricError(error)) return false;
  if (error.code === 'VERIFY_FAILED') return true;
  return (
    error.code === 'RESTORE_REFUSED' &&
    (error.cause instanceof RefusedEntry || error.cause instanceof LimitExceededError)
  );
}
