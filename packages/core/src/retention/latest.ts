import { isFutureDated } from '../shard/clock.js';
import type { ShardManifest } from '../shard/manifest.js';
import { isOwnShard, type ShardOwner } from './ownership.js';

/**
 * `latest` of a config among complete shards (newest first): its newest shard
 * not dated in the future. Shards dated in the future are passed over, and
 * returned so the caller can say so: one run under a wrong clock must not
 * decide every later restore.
 */
export function newestOwnShard(
  complete: readonly ShardManifest[],
  owner: ShardOwner,
  now: Date,
): { newest?: ShardManifest; future: ShardManifest[] } {
  const own = complete.filter((manifest) => isOwnShard(manifest, owner));
  const future = own.filter((manifest) => isFutureDated(manifest.created_at, now));
  return { newest: own.find((manifest) => !future.includes(manifest)), future };
}
