import { type LoadedConfig, MatricError } from '@matric-backup/core';
import { type FileEntry, fileEntry, type ShardRef, shardRef } from './files.js';
import { treeSelector } from './path-match.js';
import { type ShardTreeRequest, type TreeReading, withShardTree } from './shard-tree.js';

export interface LsRequest extends ShardTreeRequest {
  /** Shard id or `latest`. */
  id: string;
  /** Globs selecting paths and what lies under them; none: everything. */
  patterns?: readonly string[];
}

export interface LsResult extends Omit<TreeReading, 'bytes_read'> {
  shard: ShardRef;
  entries: FileEntry[];
  bytes_read: number;
}

/**
 * The entries of a shard at its point in time (an incremental shard's chain
 * laid over its base), those the patterns select, without restoring anything.
 * Patterns that select nothing are PATH_NOT_FOUND.
 */
export async function listShardFiles(config: LoadedConfig, request: LsRequest): Promise<LsResult> {
  const patterns = request.patterns ?? [];
  const selected = treeSelector(patterns);
  return withShardTree(config, request.id, request, async (tree, reading) => {
    const entries = tree.entries.filter((entry) => selected(entry.path)).map(fileEntry);
    if (entries.length === 0 && patterns.length > 0) {
      throw new MatricError(
        'PATH_NOT_FOUND',
        `nothing in shard ${tree.manifest.id} matches ${patterns.map((pattern) => JSON.stringify(pattern)).join(', ')}`,
        {
          hint: `paths start with the source's name: run \`matric-backup ls ${tree.manifest.id}\` to see them`,
        },
      );
    }
    return {
      destination: reading.destination,
      shard: shardRef(tree.manifest, tree.chain),
      links: reading.links,
      bytes_read: reading.bytes_read,
      warnings: reading.warnings,
      entries,
    };
  });
}
