import {
  type DestinationStatus,
  destinationStatus,
  isBackupRecord,
  type LoadedConfig,
  loadShardOwner,
  readHistory,
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
  /** The newest `verify` that checked this destination, from the run history. */
  lastVerify?: LastVerify;
  error?: unknown;
}

/** What the newest verify of a destination found: a failed one stands until a later verify passes. */
export interface LastVerify {
  finished_at: string;
  status: 'success' | 'failed';
  failed: Array<{ id: string; message: string }>;
  error?: { code: string; message: string };
}

export interface StatusReport {
  /** No destination failed to answer, none is stale, none failed its last verify. */
  ok: boolean;
  destinations: DestinationStatusReport[];
}

/** Per destination: this config's newest shard, its age, how many and how big; nothing printed. */
export async function readStatus(config: LoadedConfig, options: StatusOptions = {}): Promise<StatusReport> {
  const owner = await loadShardOwner(config);
  const now = options.now ?? new Date();
  const [outcomes, verifies] = await Promise.all([
    onEachDestination(config, selectDestinations(config, options.destinations), (opened) =>
      destinationStatus(opened, owner, now),
    ),
    lastVerifies(config),
  ]);
  const destinations = outcomes.map((outcome): DestinationStatusReport => {
    const lastVerify = verifies.get(outcome.destination.name);
    const base = {
      name: outcome.destination.name,
      type: outcome.destination.type,
      ...(lastVerify && { lastVerify }),
    };
    if (!outcome.ok) return { ...base, error: outcome.error };
    const status = outcome.value;
    if (options.maxAgeMs === undefined) return { ...base, status };
    const stale = status.ageMs === undefined || status.ageMs > options.maxAgeMs;
    return { ...base, status, stale };
  });
  return {
    ok: destinations.every(
      (row) => row.error === undefined && !row.stale && row.lastVerify?.status !== 'failed',
    ),
    destinations,
  };
}

/**
 * Per destination, the newest verify's outcome there. A state folder that cannot be
 * read leaves status without it: the destinations' own answers matter more.
 */
export async function lastVerifies(config: LoadedConfig): Promise<Map<string, LastVerify>> {
  const found = new Map<string, LastVerify>();
  const records = await readHistory(config.backup.state_dir, { config: config.file }).catch(() => []);
  for (const record of records) {
    if (isBackupRecord(record) || record.kind !== 'verify') continue;
    for (const destination of record.destinations) {
      if (found.has(destination.name)) continue;
      found.set(destination.name, {
        finished_at: record.finished_at,
        status: destination.status,
        failed: destination.failed,
        ...(destination.error && { error: destination.error }),
      });
    }
  }
  return found;
}
