import type { ShardManifest } from '../shard/manifest.js';
import { parseShardId } from '../shard/naming.js';
import type { WriterRecords } from '../state/writer-records.js';

/**
 * Which config is asking: only its own shards (its name, on its source
 * instance) are pruned, counted by status, or picked as `latest`.
 */
export interface ShardOwner {
  /** backup.name (or its default). */
  name: string;
  /** This config's writer tag on this host, as in its shard ids. */
  tag: string;
  idPrefix: string;
  sourceInstance: string;
  /** What the config's state folder recorded; without it no legacy or incomplete shard is ever its own. */
  records?: WriterRecords;
}

/**
 * `own`: written by this config. `foreign`: by another config or host.
 * `legacy`: written before sidecars named their writer, by this host with this
 * id prefix, but this config's run history does not show it stored that shard:
 * it may be another config's, so it is listed and never pruned automatically.
 */
export type Ownership = 'own' | 'foreign' | 'legacy';

export function shardOwnership(manifest: ShardManifest, owner: ShardOwner): Ownership {
  // One name on two hosts is two writers: copies of one config on several machines never prune each other.
  if (manifest.writer) {
    return manifest.writer.name === owner.name && manifest.source_instance === owner.sourceInstance
      ? 'own'
      : 'foreign';
  }
  if (
    parseShardId(manifest.id)?.prefix !== owner.idPrefix ||
    manifest.source_instance !== owner.sourceInstance
  ) {
    return 'foreign';
  }
  // The run history must show this config stored this id with this very archive size: two configs that
  // collided on one id in the past both recorded it, but only one of their archives is there.
  return owner.records?.stored.get(manifest.id) === manifest.object.size ? 'own' : 'legacy';
}

export function isOwnShard(manifest: ShardManifest, owner: ShardOwner): boolean {
  return shardOwnership(manifest, owner) === 'own';
}

/** Whether an id carries this config's writer tag (objects without a readable sidecar). */
export function hasOwnTag(id: string, owner: Pick<ShardOwner, 'tag'>): boolean {
  return parseShardId(id)?.tag === owner.tag;
}

/**
 * Why objects of shard `id` without a usable sidecar may be removed on
 * `destination`, or undefined when nothing proves this config's run left them
 * behind: then they are only reported.
 */
export function leftoverEvidence(id: string, destination: string, owner: ShardOwner): string | undefined {
  const records = owner.records;
  // An id without this writer's tag may be any writer's (ids before tags were shared by every config).
  if (!records || !hasOwnTag(id, owner)) return undefined;
  if (records.abandoned.has(id)) return 'left by a run of this config that was killed (state folder)';
  if (records.failed.get(id)?.has(destination))
    return 'left by a run of this config that failed there (run history)';
  return undefined;
}
