import type { Destination } from '@matric-backup/plugin-api';
import { isDestinationError } from '@matric-backup/plugin-api';
import { mapLimited } from '../util/limit.js';

export interface ShardObjects {
  id: string;
  /** An incremental shard's parent: deleted only after this one (see deleteChainsSafely). */
  parent?: string;
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

/**
 * Deletes shards that may form chains, incrementals before the shards they
 * need, in rounds: an interrupted or failed delete leaves shards without their
 * newest incrementals, never an incremental without its parent. A shard whose
 * incremental could not be deleted is kept.
 */
export async function deleteChainsSafely(
  dest: Destination,
  shards: readonly ShardObjects[],
): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: [], failed: [] };
  let pending = [...shards];
  while (pending.length > 0) {
    const round = pending.filter((shard) => !pending.some((other) => other.parent === shard.id));
    const result = await deleteShards(dest, round);
    outcome.deleted.push(...result.deleted);
    outcome.failed.push(...result.failed);
    pending = pending.filter((shard) => !round.includes(shard));
    for (const failure of result.failed) {
      const held = new Set(ancestorIds(shards, failure.id));
      for (const shard of pending.filter((candidate) => held.has(candidate.id))) {
        outcome.failed.push({
          id: shard.id,
          message: `kept: its incremental ${failure.id} could not be deleted`,
        });
      }
      pending = pending.filter((shard) => !held.has(shard.id));
    }
  }
  return outcome;
}

function ancestorIds(shards: readonly ShardObjects[], id: string): string[] {
  const byId = new Map(shards.map((shard) => [shard.id, shard]));
  const ids: string[] = [];
  for (let parent = byId.get(id)?.parent; parent !== undefined && !ids.includes(parent); ) {
    ids.push(parent);
    parent = byId.get(parent)?.parent;
  }
  return ids;
}
