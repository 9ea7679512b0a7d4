import {
  type Destination,
  type LoadedConfig,
  listShards,
  loadShardOwner,
  MatricError,
  openDestination,
  readShardTree,
  type ShardListing,
  type ShardManifest,
  selectDestinations,
  shardOwnership,
  type Warning,
  warning,
} from '@matric-backup/core';
import { type FileEntry, fileEntry } from './files.js';
import { nameSelector } from './path-match.js';
import { configKeys, countingReads, indexWarnings, type ShardTreeRequest } from './shard-tree.js';

export interface FindRequest extends ShardTreeRequest {
  /** Globs: without a slash matched against names, with one against whole archive paths. */
  patterns: readonly string[];
  /** Only shards made at or after this time. */
  since?: Date;
  /** Only the newest N shards (after --since). */
  latest?: number;
  /** Every writer's shards, not only this config's. */
  all?: boolean;
}

export interface FindResult {
  destination: string;
  /** Shards searched, newest first. */
  shards_searched: number;
  /** The shards holding a match, newest first, each with its matching entries. */
  matches: Array<{ shard: string; created_at: string; type: ShardManifest['type']; entries: FileEntry[] }>;
  /** How many file lists came from index objects, and how many from archives. */
  lists: { index: number; archive: number };
  bytes_read: number;
  warnings: Warning[];
}

/**
 * The paths matching `patterns` in every shard of this config on one
 * destination (the first selected that can be listed), each shard seen at its
 * point in time. A chain's file lists are read once for all its shards.
 */
export async function findInShards(config: LoadedConfig, request: FindRequest): Promise<FindResult> {
  const matches = nameSelector(request.patterns);
  const keys = request.keys ?? configKeys(config);
  const owner = await loadShardOwner(config);
  const warnings: Warning[] = [];
  const locations = selectDestinations(config, request.destinations);
  for (const [index, location] of locations.entries()) {
    let opened: Destination | undefined;
    let complete: ShardManifest[];
    const counted = { bytes: () => 0 };
    try {
      const reading = countingReads(await openDestination(config, location));
      opened = reading.destination;
      counted.bytes = reading.bytes;
      complete = (await listShards(opened)).complete;
    } catch (error) {
      await opened?.close().catch(() => undefined);
      if (index === locations.length - 1) throw error;
      warnings.push(
        warning('NOT_CHECKED', `${location.name}: ${(error as Error).message}; trying the next destination`, {
          destination: location.name,
        }),
      );
      continue;
    }
    try {
      let shards = complete.filter(
        (manifest) =>
          (request.all || shardOwnership(manifest, owner) === 'own') &&
          (!request.since || Date.parse(manifest.created_at) >= request.since.getTime()),
      );
      if (request.latest !== undefined) shards = shards.slice(0, request.latest);
      const cache = new Map<string, ShardListing>();
      const result: FindResult = {
        destination: location.name,
        shards_searched: shards.length,
        matches: [],
        lists: { index: 0, archive: 0 },
        bytes_read: 0,
        warnings,
      };
      for (const manifest of shards) {
        const tree = await readShardTree(opened, manifest, keys, { destination: location.name, cache });
        const found = tree.entries.filter((entry) => matches(entry.path)).map(fileEntry);
        if (found.length > 0)
          result.matches.push({
            shard: manifest.id,
            created_at: manifest.created_at,
            type: manifest.type,
            entries: found,
          });
      }
      for (const listing of cache.values()) result.lists[listing.source]++;
      warnings.push(
        ...indexWarnings(
          [...cache].map(([id, listing]) => ({
            id,
            ...(listing.fallback && { fallback: listing.fallback }),
          })),
          location.name,
        ),
      );
      result.bytes_read = counted.bytes();
      return result;
    } finally {
      await opened.close().catch(() => undefined);
    }
  }
  throw new MatricError('USAGE', 'no destination to search: every destination is disabled', {
    hint: 'name one with -d',
  });
}
