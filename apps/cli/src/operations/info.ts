import {
  type Destination,
  findShard,
  isMatricError,
  type LoadedConfig,
  loadShardOwner,
  newestOwnShard,
  type ShardManifest,
  type ShardOwner,
  selectDestinations,
} from '@matric-backup/core';
import { onEachDestination, whereIs } from '../destinations.js';

/** Where a shard's archive is stored on one destination. */
interface ShardLocation {
  destination: string;
  type: string;
  archive: string;
  /** For people: the plugin's description of the location and the key. */
  where: string;
}

export interface ShardInfo {
  /** Undefined when no destination searched has the shard. */
  manifest?: ShardManifest;
  locations: ShardLocation[];
  /** Destinations that could not be searched. */
  failures: Array<{ destination: string; error: unknown }>;
}

/**
 * The manifest of one shard (an id, or "latest": this config's newest) and every
 * destination that holds it; nothing printed, nothing thrown for a shard that is absent.
 */
export async function shardInfo(
  config: LoadedConfig,
  id: string,
  options: { destinations?: readonly string[] } = {},
): Promise<ShardInfo> {
  const owner = await loadShardOwner(config);
  let manifest: ShardManifest | undefined;
  // One at a time: "latest" is resolved on the first destination that has a shard; the others are
  // asked for that same id.
  const outcomes = await onEachDestination(
    config,
    selectDestinations(config, options.destinations),
    async (opened) => {
      const found = await findOn(opened, manifest ? manifest.id : id, owner);
      manifest ??= found;
      return found;
    },
    { oneAtATime: true },
  );
  const info: ShardInfo = { manifest, locations: [], failures: [] };
  for (const outcome of outcomes) {
    const { destination } = outcome;
    if (!outcome.ok) {
      info.failures.push({ destination: destination.name, error: outcome.error });
    } else if (outcome.value) {
      const key = outcome.value.object.name;
      info.locations.push({
        destination: destination.name,
        type: destination.type,
        archive: key,
        where: whereIs(destination, key),
      });
    }
  }
  return info;
}

async function findOn(destination: Destination, id: string, owner: ShardOwner) {
  try {
    return await findShard(destination, id, {
      latest: (complete) => newestOwnShard(complete, owner, new Date()).newest,
    });
  } catch (error) {
    if (isMatricError(error) && error.code === 'SHARD_NOT_FOUND') return undefined;
    throw error;
  }
}
