import type { Destination } from '@matric-backup/plugin-api';
import { hasOwnTag, type ShardOwner, shardOwnership } from '../retention/ownership.js';
import { listShards } from '../shard/catalog.js';
import { isFutureDated } from '../shard/clock.js';
import type { ShardType } from '../shard/manifest.js';
import { parseShardId } from '../shard/naming.js';

/** One destination as `status` reports it: the backups this config made there. */
export interface DestinationStatus {
  /** The newest complete shard of this config that is not dated in the future, if any. */
  newest?: { id: string; created_at: string; type: ShardType; size: number };
  /** Milliseconds since `newest` was created. */
  ageMs?: number;
  /** Complete shards of this config. */
  count: number;
  /** Bytes of their stored archives. */
  bytes: number;
  /** Shards of this config dated more than a few minutes ahead of this clock: never count as fresh. */
  future: Array<{ id: string; created_at: string }>;
  /** Shards without a usable sidecar that may be this config's (its writer tag, or an id from before tags). */
  incomplete: Array<{ id: string; reason: string }>;
  /** Shards of this host and prefix from before sidecars named their config, not in this config's history. */
  legacy: number;
  /** Complete shards another config or host wrote; not counted above. */
  foreign: number;
}

/**
 * Only the config's own shards count: on a shared bucket, another config's or
 * host's fresh shard must not make this one look backed up, and neither must a
 * shard dated in the future by a wrong clock.
 */
export async function destinationStatus(
  dest: Destination,
  owner: ShardOwner,
  now: Date = new Date(),
): Promise<DestinationStatus> {
  const catalog = await listShards(dest);
  const ownership = catalog.complete.map((manifest) => shardOwnership(manifest, owner));
  const ours = catalog.complete.filter((_, index) => ownership[index] === 'own');
  const future = ours.filter((manifest) => isFutureDated(manifest.created_at, now));
  const newest = ours.find((manifest) => !future.includes(manifest));
  const legacy = ownership.filter((kind) => kind === 'legacy').length;
  return {
    ...(newest
      ? {
          newest: {
            id: newest.id,
            created_at: newest.created_at,
            type: newest.type,
            size: newest.object.size,
          },
          ageMs: now.getTime() - Date.parse(newest.created_at),
        }
      : {}),
    count: ours.length,
    bytes: ours.reduce((sum, manifest) => sum + manifest.object.size, 0),
    future: future.map((manifest) => ({ id: manifest.id, created_at: manifest.created_at })),
    incomplete: catalog.incomplete
      .filter((shard) => {
        const parsed = parseShardId(shard.id);
        return hasOwnTag(shard.id, owner) || (!parsed?.tag && parsed?.prefix === owner.idPrefix);
      })
      .map((shard) => ({ id: shard.id, reason: shard.reason })),
    legacy,
    foreign: catalog.complete.length - ours.length - legacy,
  };
}
