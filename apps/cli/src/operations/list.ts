import {
  chainChecker,
  type IncompleteShard,
  isFutureDated,
  type LoadedConfig,
  leftoverEvidence,
  listShards,
  loadShardOwner,
  type Ownership,
  parseShardId,
  type ShardManifest,
  type ShardOwner,
  selectDestinations,
  shardOwnership,
} from '@matric-backup/core';
import { onEachDestination } from '../destinations.js';

/** A complete shard with whose it is: this config's (`own`), another's, or from before configs had names. */
export type ListedShard = ShardManifest & {
  owner: Ownership;
  /** Dated more than a few minutes ahead of this clock. */
  future: boolean;
  /** An incremental shard whose chain is not whole on this destination: why it cannot be restored from it. */
  chain_problem?: string;
};

/** An incomplete shard with whose it may be, and whether prune removes it or only reports it. */
interface ListedIncomplete extends IncompleteShard {
  owner: 'own' | 'foreign' | 'unknown';
  removable: boolean;
  why: string;
}

/** One destination's shards, newest first, or the error that kept it from being listed. */
export interface DestinationListing {
  name: string;
  type: string;
  complete: ListedShard[];
  incomplete: ListedIncomplete[];
  error?: unknown;
}

export interface ListOptions {
  /** Only these destinations (names); default every enabled one. */
  destinations?: readonly string[];
  /** Only this config's shards. */
  own?: boolean;
  now?: Date;
}

/** The shards on each destination with the config that wrote each; nothing printed. */
export async function listBackups(
  config: LoadedConfig,
  options: ListOptions = {},
): Promise<DestinationListing[]> {
  const owner = await loadShardOwner(config);
  const now = options.now ?? new Date();
  const outcomes = await onEachDestination(
    config,
    selectDestinations(config, options.destinations),
    (opened) => listShards(opened),
  );
  return outcomes.map((outcome): DestinationListing => {
    const { destination } = outcome;
    const base = { name: destination.name, type: destination.type };
    if (!outcome.ok) return { ...base, complete: [], incomplete: [], error: outcome.error };
    const chainProblems = chainChecker(outcome.value.complete);
    const complete = outcome.value.complete.map((manifest): ListedShard => {
      const [broken] = chainProblems(manifest);
      return {
        ...manifest,
        owner: shardOwnership(manifest, owner),
        future: isFutureDated(manifest.created_at, now),
        ...(broken && { chain_problem: `${broken.path}: ${broken.reason}` }),
      };
    });
    const incomplete = outcome.value.incomplete.map((shard) =>
      describeIncomplete(shard, destination.name, owner),
    );
    return {
      ...base,
      complete: options.own ? complete.filter((shard) => shard.owner === 'own') : complete,
      incomplete: options.own ? incomplete.filter((shard) => shard.owner === 'own') : incomplete,
    };
  });
}

function describeIncomplete(
  shard: IncompleteShard,
  destination: string,
  owner: ShardOwner,
): ListedIncomplete {
  const tag = parseShardId(shard.id)?.tag;
  const whose = tag === undefined ? 'unknown' : tag === owner.tag ? 'own' : 'foreign';
  const evidence = leftoverEvidence(shard.id, destination, owner);
  const why =
    evidence ??
    (whose === 'foreign'
      ? "another config's or host's: left alone"
      : 'nothing shows it is a failed run of this config: kept; `matric-backup delete ID` removes it');
  return { ...shard, owner: whose, removable: evidence !== undefined, why };
}
