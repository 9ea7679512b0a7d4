import { diffTrees, findShard, type LoadedConfig, readShardTree, type TreeChange } from '@matric-backup/core';
import { type ShardRef, shardRef } from './files.js';
import { indexWarnings, type ShardTreeRequest, type TreeReading, withShardTree } from './shard-tree.js';

export interface DiffRequest extends ShardTreeRequest {
  /** The older point in time (an id or `latest`). */
  from: string;
  /** The newer one. */
  to: string;
}

export interface DiffResult extends Omit<TreeReading, 'bytes_read'> {
  from: ShardRef;
  to: ShardRef;
  changes: TreeChange[];
  summary: { added: number; removed: number; modified: number };
  bytes_read: number;
}

/**
 * What changed between two shards' points in time (each an incremental's
 * chain laid over its base): added, removed and modified paths, with sizes and
 * what changed. Both are read from the first destination holding the first.
 */
export async function diffShards(config: LoadedConfig, request: DiffRequest): Promise<DiffResult> {
  // `latest` as either point: this config's newest, not whoever wrote last to a shared destination.
  return withShardTree(config, request.from, request, async (from, reading, dest, { keys, latest }) => {
    const manifest = await findShard(dest, request.to, { destination: reading.destination, latest });
    const to = await readShardTree(dest, manifest, keys, { destination: reading.destination });
    const changes = diffTrees(from.entries, to.entries);
    const count = (kind: TreeChange['change']) => changes.filter((change) => change.change === kind).length;
    return {
      destination: reading.destination,
      from: shardRef(from.manifest, from.chain),
      to: shardRef(to.manifest, to.chain),
      links: [
        ...reading.links,
        ...to.links.filter((link) => !reading.links.some((seen) => seen.id === link.id)),
      ],
      changes,
      summary: { added: count('added'), removed: count('removed'), modified: count('modified') },
      bytes_read: reading.bytes_read,
      warnings: [...reading.warnings, ...indexWarnings(to.links, reading.destination)],
    };
  });
}
