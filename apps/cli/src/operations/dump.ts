import type { Writable } from 'node:stream';
import { type DumpResult, dumpFile, type LoadedConfig } from '@matric-backup/core';
import { typedPaths } from './path-match.js';
import { type ShardTreeRequest, type TreeReading, withShardTree } from './shard-tree.js';

export interface DumpRequest extends ShardTreeRequest {
  /** Shard id or `latest`. */
  id: string;
  /** The file's archive path (`<source>/...`; a leading slash is ignored). */
  path: string;
}

export interface DumpOutcome extends Omit<DumpResult, 'bytes_read'>, Omit<TreeReading, 'bytes_read'> {
  shard: string;
  /** Everything read from the destination: sidecars, file lists and the archive up to the file's end. */
  bytes_read: number;
}

/**
 * Writes one file of a shard (at its point in time) to `out`, byte for byte,
 * reading the archive only up to that file's end. Folders and links are
 * NOT_A_FILE, an unknown path PATH_NOT_FOUND.
 */
export async function dumpShardFile(
  config: LoadedConfig,
  request: DumpRequest,
  out: Writable,
): Promise<DumpOutcome> {
  return withShardTree(config, request.id, request, async (tree, reading, from, { keys }) => {
    const [typed, raw] = typedPaths(request.path);
    const path = raw !== undefined && tree.entries.some((entry) => entry.path === raw) ? raw : typed!;
    const dumped = await dumpFile(from, tree, path, out, keys);
    return {
      ...dumped,
      shard: tree.manifest.id,
      destination: reading.destination,
      links: reading.links,
      warnings: reading.warnings,
      bytes_read: reading.bytes_read,
    };
  });
}
