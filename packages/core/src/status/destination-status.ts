import type { Destination } from '@matric-backup/plugin-api';
import { hasOwnPrefix, isOwnShard, type ShardOwner } from '../retention/ownership.js';
import { listShards } from '../shard/catalog.js';

/** One destination as `status` reports it: the backups this config made there. */
export interface DestinationStatus {
  /** The newest complete shard of this config, if any. */
  newest?: { id: string; created_at: string };
  /** Milliseconds since `newest` was created (negative if the clocks disagree). */
  ageMs?: number;
  /** Complete shards of this config. */
  count: number;
  /** Bytes of their stored archives. */
  bytes: number;
  /** Shards of this config's prefix without a usable sidecar (a run that did not finish). */
  incomplete: number;
  /** Complete shards another config or host wrote; not counted above. */
  foreign: number;
}

/**
 * Only the config's own shards count (its id prefix and source_instance): on a
 * shared bucket, another host's fresh shard must not make this host look backed up.
 */
export async function destinationStatus(
  dest: Destination,
  owner: ShardOwner,
  now: Date = new Date(),
): Promise<DestinationStatus> {
  const catalog = await listShards(dest);
  const ours = catalog.complete.filter((manifest) => isOwnShard(manifest, owner));
  const newest = ours[0];
  return {
    ...(newest
      ? {
          newest: { id: newest.id, created_at: newest.created_at },
          ageMs: now.getTime() - Date.parse(newest.created_at),
        }
      : {}),
    count: ours.length,
    bytes: ours.reduce((sum, manifest) => sum + manifest.object.size, 0),
    incomplete: catalog.incomplete.filter((shard) => hasOwnPrefix(shard.id, owner)).length,
    foreign: catalog.complete.length - ours.length,
  };
}
