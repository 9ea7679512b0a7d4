import type { ShardManifest } from '../shard/manifest.js';
import { parseShardId } from '../shard/naming.js';

/** Which shards a config wrote: its id prefix, on its source instance . */
export interface ShardOwner {
  idPrefix: string;
  sourceInstance: string;
}

/** By id alone, for objects without a readable sidecar (incomplete shards). */
export function hasOwnPrefix(id: string, owner: Pick<ShardOwner, 'idPrefix'>): boolean {
  return parseShardId(id)?.prefix === owner.idPrefix;
}

/** Two hosts sharing a bucket and a prefix never prune, nor vouch for, each other's shards. */
export function isOwnShard(manifest: ShardManifest, owner: ShardOwner): boolean {
  return hasOwnPrefix(manifest.id, owner) && manifest.source_instance === owner.sourceInstance;
}
