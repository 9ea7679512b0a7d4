import type { Destination } from '@matric-backup/plugin-api';
import type { RetentionPolicy } from '../config/schema.js';
import { listShards } from '../shard/catalog.js';
import { type ShardManifest, SIDECAR_SUFFIX } from '../shard/manifest.js';
import { type DeleteOutcome, deleteShards } from './delete-shards.js';
import { hasOwnPrefix, isOwnShard, type ShardOwner } from './ownership.js';
import { planRetention, type RetentionDecision } from './policy.js';

/** Only shards with this id prefix and source_instance are candidates: never another host's. */
export interface PruneOptions extends ShardOwner {
  /** Ids that must survive (the shard just written). */
  protect?: readonly string[];
  dryRun?: boolean;
  now?: Date;
  /** An incomplete shard younger than this may still be uploading; default one day. */
  incompleteGraceMs?: number;
}

export interface IncompleteDecision {
  id: string;
  keys: string[];
  size: number;
  modified: Date;
  reason: string;
  action: 'keep' | 'delete';
}

export interface PruneResult {
  /** Newest first, one row per candidate shard. */
  decisions: RetentionDecision[];
  incomplete: IncompleteDecision[];
  /** Complete shards left alone because another config or host wrote them. */
  foreign: number;
  dryRun: boolean;
  deleted: string[];
  failed: DeleteOutcome['failed'];
}

const DAY_MS = 86_400_000;

/**
 * Applies a retention policy to one destination and removes
 * incomplete shards older than the grace period. With `dryRun` it only plans.
 */
export async function pruneDestination(
  dest: Destination,
  policy: RetentionPolicy | undefined,
  options: PruneOptions,
): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const grace = options.incompleteGraceMs ?? DAY_MS;
  const catalog = await listShards(dest);
  const candidates = catalog.complete.filter((manifest) => isOwnShard(manifest, options));
  const byId = new Map<string, ShardManifest>(candidates.map((manifest) => [manifest.id, manifest]));

  const decisions = planRetention(
    candidates.map((manifest) => ({
      id: manifest.id,
      createdAt: new Date(manifest.created_at),
      size: manifest.object.size,
    })),
    policy ?? {},
    { protect: options.protect },
  );
  const incomplete: IncompleteDecision[] = catalog.incomplete
    .filter((shard) => hasOwnPrefix(shard.id, options) && !options.protect?.includes(shard.id))
    .map((shard) => ({
      ...shard,
      action: now.getTime() - shard.modified.getTime() > grace ? 'delete' : 'keep',
    }));

  const result: PruneResult = {
    decisions,
    incomplete,
    foreign: catalog.complete.length - candidates.length,
    dryRun: options.dryRun ?? false,
    deleted: [],
    failed: [],
  };
  if (result.dryRun) return result;

  const doomed = [
    ...decisions
      .filter((decision) => decision.action === 'delete')
      .map((decision) => ({
        id: decision.id,
        keys: [byId.get(decision.id)!.object.name, `${decision.id}${SIDECAR_SUFFIX}`],
      })),
    ...incomplete
      .filter((shard) => shard.action === 'delete')
      .map((shard) => ({ id: shard.id, keys: archiveFirst(shard.keys) })),
  ];
  const outcome = await deleteShards(dest, doomed);
  result.deleted = outcome.deleted;
  result.failed = outcome.failed;
  return result;
}

function archiveFirst(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Number(a.endsWith(SIDECAR_SUFFIX)) - Number(b.endsWith(SIDECAR_SUFFIX)));
}
