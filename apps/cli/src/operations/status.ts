import {
  type DestinationStatus,
  destinationStatus,
  type LoadedConfig,
  loadShardOwner,
  selectDestinations,
} from '@matric-backup/core';
import { onEachDestination } from '../destinations.js';

export interface StatusOptions {
  /** Only these destinations (names); default every enabled one. */
  destinations?: readonly string[];
  /** A destination whose newest own shard is older than this (or that has none) is stale. */
  maxAgeMs?: number;
  now?: Date;
}

/** One destination's status, or the error that kept it from being read. */
interface DestinationStatusReport {
  name: string;
  type: string;
  status?: DestinationStatus;
  /** Only with `maxAgeMs`. */
  stale?: boolean;
  error?: unknown;
}

export interface StatusReport {
  /** No destination failed to answer, none is stale. */
  ok: boolean;
  destinations: DestinationStatusReport[];
}

/** Per destination: this config's newest shard, its age, how many and how big; nothing printed. */
export async function readStatus(config: LoadedConfig, options: StatusOptions = {}): Promise<StatusReport> {
  const owner = await loadShardOwner(config);
  const now = options.now ?? new Date();
  const outcomes = await onEachDestination(
    config,
    selectDestinations(config, options.destinations),
    (opened) => destinationStatus(opened, owner, now),
  );
  const destinations = outcomes.map((outcome): DestinationStatusReport => {
    const base = { name: outcome.destination.name, type: outcome.destination.type };
    if (!outcome.ok) return { ...base, error: outcome.error };
    const status = outcome.value;
    if (options.maxAgeMs === undefined) return { ...base, status };
    const stale = status.ageMs === undefined || status.ageMs > options.maxAgeMs;
    return { ...base, status, stale };
  });
  return { ok: destinations.every((row) => row.error === undefined && !row.stale), destinations };
}
