import type { Destination } from '@matric-backup/plugin-api';
import type { RetentionPolicy } from '../config/schema.js';
import { listShards } from '../shard/catalog.js';
import { isFutureDated } from '../shard/clock.js';
import { type ShardManifest, SIDECAR_SUFFIX } from '../shard/manifest.js';
import { objectKeysOf, parseShardId, shardIdOfKey } from '../shard/naming.js';
import { type DeleteOutcome, deleteChainsSafely } from './delete-shards.js';
import { hasOwnTag, leftoverEvidence, type ShardOwner, shardOwnership } from './ownership.js';
import { planRetention, type RetentionCandidate, type RetentionDecision } from './policy.js';

/** An upload's temporary object younger than this may belong to an upload still going. */
const LEFTOVER_AGE_MS = 86_400_000;

/** Only this config's shards are candidates (see ShardOwner): never another config's or host's. */
export interface PruneOptions extends ShardOwner {
  /** The destination's configured name: run records name destinations by it. */
  destination?: string;
  /** Ids that must survive (the shard just written). */
  protect?: readonly string[];
  dryRun?: boolean;
  now?: Date;
}

export interface IncompleteDecision {
  id: string;
  keys: string[];
  size: number;
  modified: Date;
  /** Why it is incomplete, e.g. `no sidecar manifest`. */
  reason: string;
  /** `own`: the id carries this config's writer tag; `unknown`: an id from before writer tags. */
  owner: 'own' | 'unknown';
  action: 'keep' | 'delete';
  /** Why it is deleted (this config's records show its run left it) or only reported. */
  why: string;
}

/** A temporary object of an unfinished upload of this config's shards (a killed run). */
interface LeftoverDecision {
  name: string;
  key: string;
  size: number;
  modified: Date;
  /** Removed once a day old: a younger one may belong to an upload still going. */
  action: 'keep' | 'delete';
}

export interface PruneResult {
  /** Newest first, one row per shard of this config. */
  decisions: RetentionDecision[];
  incomplete: IncompleteDecision[];
  /** Shards of this host and id prefix from before sidecars named their config, not in this config's history. */
  legacy: RetentionCandidate[];
  /** Complete shards left alone because another config or host wrote them. */
  foreign: number;
  /** This config's shards dated in the future: always kept, and they take no keep_* slot. */
  future: string[];
  /** Temporary objects of this config's unfinished uploads, on destinations that can list them. */
  leftovers: LeftoverDecision[];
  dryRun: boolean;
  deleted: string[];
  failed: DeleteOutcome['failed'];
}

/**
 * Applies a retention policy to one destination and removes
 * the leftovers of this config's failed or killed runs. With `dryRun` it only
 * plans. Nothing whose writer is in doubt is deleted: other configs' shards,
 * legacy shards not in this config's run history, and archives without a
 * usable sidecar that no record of this config explains are only reported.
 */
export async function pruneDestination(
  dest: Destination,
  policy: RetentionPolicy | undefined,
  options: PruneOptions,
): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const catalog = await listShards(dest);
  const own: ShardManifest[] = [];
  const legacy: RetentionCandidate[] = [];
  for (const manifest of catalog.complete) {
    const ownership = shardOwnership(manifest, options);
    if (ownership === 'own') own.push(manifest);
    else if (ownership === 'legacy') legacy.push(candidateOf(manifest));
  }
  const future = own.filter((manifest) => isFutureDated(manifest.created_at, now));
  const current = own.filter((manifest) => !future.includes(manifest));
  const byId = new Map<string, ShardManifest>(own.map((manifest) => [manifest.id, manifest]));

  const decisions: RetentionDecision[] = [
    ...future.map((manifest) => ({
      ...candidateOf(manifest),
      action: 'keep' as const,
      reasons: ['dated in the future'],
    })),
    ...planRetention(current.map(candidateOf), policy ?? {}, {
      protect: options.protect,
      keptElsewhere: future.map(candidateOf),
    }),
  ];
  const incomplete: IncompleteDecision[] = catalog.incomplete
    .filter((shard) => !options.protect?.includes(shard.id))
    .flatMap((shard): IncompleteDecision[] => {
      const parsed = parseShardId(shard.id);
      const owner = hasOwnTag(shard.id, options) ? 'own' : parsed?.tag ? undefined : 'unknown';
      if (!owner || (owner === 'unknown' && parsed?.prefix !== options.idPrefix)) return [];
      const evidence = options.destination
        ? leftoverEvidence(shard.id, options.destination, options)
        : undefined;
      return [
        {
          ...shard,
          owner,
          action: evidence ? 'delete' : 'keep',
          why:
            evidence ??
            (owner === 'own'
              ? 'no record of this config shows the run that wrote it failed: check it, then `matric-backup delete ID`'
              : 'its writer is unknown (an id from before writer tags): `matric-backup delete ID` removes it'),
        },
      ];
    });

  const result: PruneResult = {
    decisions,
    incomplete,
    legacy,
    foreign: catalog.complete.length - own.length - legacy.length,
    future: future.map((manifest) => manifest.id),
    leftovers: await uploadLeftovers(dest, options, now),
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
        ...(decision.parent !== undefined && { parent: decision.parent }),
        keys: objectKeysOf(byId.get(decision.id)!),
      })),
    ...incomplete
      .filter((shard) => shard.action === 'delete')
      .map((shard) => ({ id: shard.id, keys: archiveFirst(shard.keys) })),
  ];
  const outcome = await deleteChainsSafely(dest, doomed);
  result.deleted = outcome.deleted;
  result.failed = outcome.failed;
  for (const leftover of result.leftovers.filter((candidate) => candidate.action === 'delete')) {
    const removal = dest.deleteTemporary ? dest.deleteTemporary(leftover) : dest.delete(leftover.name);
    await removal.catch((error: unknown) => {
      result.failed.push({ id: leftover.name, message: (error as Error).message });
    });
  }
  return result;
}

/** Only this writer's (the shard id in the name carries its tag), never another writer's upload. */
async function uploadLeftovers(dest: Destination, owner: ShardOwner, now: Date): Promise<LeftoverDecision[]> {
  if (!dest.listTemporary) return [];
  const found: LeftoverDecision[] = [];
  for await (const temporary of dest.listTemporary()) {
    const id = shardIdOfKey(temporary.key);
    if (!id || !hasOwnTag(id, owner)) continue;
    const stale = now.getTime() - temporary.modified.getTime() > LEFTOVER_AGE_MS;
    found.push({ ...temporary, action: stale ? 'delete' : 'keep' });
  }
  return found;
}

function candidateOf(manifest: ShardManifest): RetentionCandidate {
  return {
    id: manifest.id,
    createdAt: new Date(manifest.created_at),
    size: manifest.object.size,
    ...(manifest.type === 'incremental' && { parent: manifest.parent }),
  };
}

function archiveFirst(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Number(a.endsWith(SIDECAR_SUFFIX)) - Number(b.endsWith(SIDECAR_SUFFIX)));
}
