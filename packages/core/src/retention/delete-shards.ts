import type { Destination } from '@matric-backup/plugin-api';
import { isDestinationError } from '@matric-backup/plugin-api';
import { mapLimited } from '../util/limit.js';

export interface ShardObjects {
  id: string;
  /** The archive object(s) first, the sidecar last: a half-done delete never looks complete. */
  keys: readonly string[];
}

export interface DeleteOutcome {
  deleted: string[];
  failed: Array<{ id: string; message: string }>;
}

const DELETES_IN_PARALLEL = 8;

/**
 * Deletes whole shards. Every shard's objects go in the order given, archive
 * before sidecar, so an interrupted delete leaves an incomplete shard (that prune
 * later removes), never a sidecar that vouches for a missing archive's absence.
 * Uses the destination's batch delete when it has one (S3 DeleteObjects).
 */
export async function deleteShards(
  dest: Destination,
  shards: readonly ShardObjects[],
): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: [], failed: [] };
  if (dest.deleteMany) {
    let pending = [...shards];
    const depth = Math.max(0, ...shards.map((shard) => shard.keys.length));
    for (let step = 0; step < depth; step++) {
      const keys = pending.flatMap((shard) => (shard.keys[step] === undefined ? [] : [shard.keys[step]!]));
      const result = keys.length ? await dest.deleteMany(keys) : { failed: [] };
      const failedKeys = new Map(result.failed.map((failure) => [failure.key, failure.error.message]));
      pending = pending.filter((shard) => {
        const message = shard.keys[step] === undefined ? undefined : failedKeys.get(shard.keys[step]!);
        if (message !== undefined) outcome.failed.push({ id: shard.id, message });
        return message === undefined;
      });
    }
    outcome.deleted.push(...pending.map((shard) => shard.id));
    return outcome;
  }
  await mapLimited(shards, DELETES_IN_PARALLEL, async (shard) => {
    try {
      for (const key of shard.keys) await dest.delete(key);
      outcome.deleted.push(shard.id);
    } catch (error) {
      outcome.failed.push({
        id: shard.id,
        message: isDestinationError(error) ? error.message : String(error),
      });
    }
  });
  return outcome;
}
