import type { Destination } from '@matric-backup/plugin-api';
import { isDestinationError, isMatricError, MatricError } from '@matric-backup/plugin-api';
import { newestOwnShard } from '../retention/latest.js';
import type { ShardOwner } from '../retention/ownership.js';
import { findShard, listShards } from '../shard/catalog.js';
import { resolveChain } from '../shard/chain.js';
import { isFutureDated } from '../shard/clock.js';
import { RefusedEntry } from '../shard/entry-guard.js';
import { LimitExceededError } from '../shard/limits.js';
import type { ShardManifest } from '../shard/manifest.js';
import { type RestoreOptions, type RestoreResult, restoreShard } from './restore.js';

/** A place that may hold the shard: a configured destination, opened on demand and closed after. */
export interface ShardLocation {
  name: string;
  open(): Promise<Destination>;
}

export interface RestoreFromOptions extends Omit<RestoreOptions, 'from' | 'manifest'> {
  /**
   * Shard id, or `latest`: with `owner`, the newest complete shard of that config
   * across all locations (not dated in the future); without, the newest on the
   * first location that has any. Then that id is restored with fallback.
   */
  id: string;
  owner?: ShardOwner;
  /** For `latest`: what was passed over (shards dated in the future). */
  onNotice?: (message: string) => void;
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
  const { locations, onFallback, owner, onNotice, ...restoreOptions } = options;
  if (locations.length === 0) {
    throw new MatricError('USAGE', 'no destination to restore from: every destination is disabled', {
      hint: 'name one with -d, or restore a shard file by its path',
    });
  }
  let id = options.id;
  if (id === 'latest' && owner) id = await newestAcross(locations, owner, onFallback, onNotice);
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
      // An incremental shard needs its whole chain from this same destination.
      const chain = await resolveChain(opened, manifest, { destination: location.name });
      const restored = await restoreShard({ ...restoreOptions, from: opened, manifest, chain });
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

/**
 * The id of the newest complete shard of `owner` on any location. A location
 * that cannot be listed is reported through `onFallback` and skipped; if none
 * can, its error is thrown.
 */
async function newestAcross(
  locations: readonly ShardLocation[],
  owner: ShardOwner,
  onFallback: RestoreFromOptions['onFallback'],
  onNotice: RestoreFromOptions['onNotice'],
): Promise<string> {
  const now = new Date();
  let best: ShardManifest | undefined;
  // A new machine restoring another host's backups has no shard of its own: the newest of any writer.
  let anyWriter: ShardManifest | undefined;
  const newer = (a: ShardManifest | undefined, b: ShardManifest) =>
    !a || Date.parse(b.created_at) > Date.parse(a.created_at);
  const future = new Map<string, ShardManifest>();
  let lastError: unknown;
  let listed = 0;
  for (const location of locations) {
    let opened: Destination | undefined;
    try {
      opened = await location.open();
      const { complete } = await listShards(opened);
      const found = newestOwnShard(complete, owner, now);
      listed++;
      const current = complete.find((manifest) => !isFutureDated(manifest.created_at, now));
      if (current && newer(anyWriter, current)) anyWriter = current;
      for (const manifest of found.future) future.set(manifest.id, manifest);
      if (found.newest && (!best || Date.parse(found.newest.created_at) > Date.parse(best.created_at))) {
        best = found.newest;
      }
    } catch (error) {
      if (!isCopyProblem(error)) throw error;
      lastError = error;
      onFallback?.(location.name, error);
    } finally {
      await opened?.close().catch(() => undefined);
    }
  }
  if (listed === 0 && lastError !== undefined) throw lastError;
  for (const manifest of future.values()) {
    onNotice?.(
      `passed over shard ${manifest.id}: dated ${manifest.created_at}, in the future (a wrong clock?); restore it by its id if it is the one you want`,
    );
  }
  if (!best && anyWriter) {
    const writer = anyWriter.writer
      ? `${anyWriter.writer.name}@${anyWriter.source_instance}`
      : `a config on ${anyWriter.source_instance}`;
    onNotice?.(
      `no shard of this config (${owner.name}@${owner.sourceInstance}) there: restoring the newest shard, ${anyWriter.id}, written by ${writer}`,
    );
    return anyWriter.id;
  }
  if (!best) {
    throw new MatricError(
      'SHARD_NOT_FOUND',
      `no complete shard on: ${locations.map((location) => location.name).join(', ')}`,
      { hint: 'run `matric-backup list` to see every shard and its writer' },
    );
  }
  return best.id;
}
