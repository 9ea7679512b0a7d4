import type { Destination } from '@matric-backup/plugin-api';
import { MatricError } from '@matric-backup/plugin-api';
import type { RetryNotice, RetryPolicy } from '../destination/retry.js';
import { findShard, listShards } from '../shard/catalog.js';
import type { ShardManifest } from '../shard/manifest.js';
import { copyShard } from './copy-shard.js';
import { planCopy } from './plan.js';

export interface CopyRequest {
  /** Shard ids (or `latest`), or every complete shard of the source. */
  shards: readonly string[] | 'all';
  /** Picks `latest` among the source's complete shards, newest first. */
  latest?: (complete: ShardManifest[]) => ShardManifest | undefined;
  /** Plan only: nothing is read beyond the sidecars, nothing written. */
  dryRun?: boolean;
  policy: RetryPolicy;
  /** Names of the two destinations, for messages. */
  names: { from: string; to: string };
  /** Called as each shard's copy starts; what it returns hears the archive's bytes stored and the end. */
  onShardStart?: (manifest: ShardManifest) => { update(bytes: number): void; stop(): void };
  onRetry?: (notice: RetryNotice) => void;
  warn?: (message: string) => void;
  /** Each shard's outcome as soon as it is known. */
  onOutcome?: (outcome: CopyOutcome) => void;
}

export type CopyStatus = 'copied' | 'present' | 'would_copy' | 'failed';

export interface CopyOutcome {
  manifest: ShardManifest;
  status: CopyStatus;
  /** Copied as a link of this selected incremental shard's chain. */
  linkOf?: string;
  /** Only the sidecar was stored: the archive was already there, whole (an earlier copy stopped). */
  resumed?: boolean;
  /** Bytes written to the target. */
  bytes: number;
  /** Why it failed (copied: never). */
  error?: unknown;
}

/**
 * Copies shards from one destination to another (see planCopy for what and in
 * which order, copyShard for how): one shard at a time, nothing deleted, the
 * target's retention left alone. A shard whose copy fails does not stop the
 * others, but the incremental shards that need it are not copied (their chain
 * on the target would be broken). Throws SHARD_NOT_FOUND when a named shard is
 * not on the source.
 */
export async function copyShards(
  from: Destination,
  to: Destination,
  request: CopyRequest,
): Promise<CopyOutcome[]> {
  const [source, target] = await Promise.all([listShards(from), listShards(to)]);
  const selected = await select(from, source.complete, request);
  const { steps, refused } = planCopy(selected, source.complete, target.complete);
  const outcomes: CopyOutcome[] = [];
  const report = (outcome: CopyOutcome) => {
    outcomes.push(outcome);
    request.onOutcome?.(outcome);
  };
  for (const { manifest, code, reason } of refused) {
    const error =
      code === 'CHAIN'
        ? new MatricError('VERIFY_FAILED', reason, {
            hint: 'copy from a destination that holds the whole chain (`matric-backup verify ID` names the missing link)',
          })
        : new MatricError('ALREADY_EXISTS', reason, {
            hint: 'two different shards cannot share an id: see which writer made the one on the target (`matric-backup info ID -d TARGET`)',
          });
    report({ manifest, status: 'failed', bytes: 0, error });
  }

  const failed = new Set<string>();
  for (const step of steps) {
    const { manifest } = step;
    const base = { manifest, ...(step.linkOf && { linkOf: step.linkOf }) };
    const missing = step.needs.find((id) => failed.has(id));
    if (missing) {
      failed.add(manifest.id);
      const error = new MatricError(
        'SHARD_NOT_FOUND',
        `not copied: ${missing}, a link of its chain, failed to copy`,
      );
      report({ ...base, status: 'failed', bytes: 0, error });
      continue;
    }
    if (step.action === 'present') {
      report({ ...base, status: 'present', bytes: 0 });
      continue;
    }
    if (request.dryRun) {
      report({ ...base, status: 'would_copy', bytes: manifest.object.size });
      continue;
    }
    const progress = request.onShardStart?.(manifest);
    try {
      const copied = await copyShard(from, to, manifest, {
        policy: request.policy,
        ...(request.onRetry && { onRetry: request.onRetry }),
        ...(progress && { onProgress: (bytes: number) => progress.update(bytes) }),
        warn: (message) => request.warn?.(`${request.names.to}: ${message}`),
      });
      report({ ...base, status: 'copied', bytes: copied.bytes, ...(copied.resumed && { resumed: true }) });
    } catch (error) {
      failed.add(manifest.id);
      report({ ...base, status: 'failed', bytes: 0, error });
    } finally {
      progress?.stop();
    }
  }
  return outcomes;
}

/** The source's shards the request names; `latest` by request.latest. */
async function select(
  from: Destination,
  complete: ShardManifest[],
  request: CopyRequest,
): Promise<ShardManifest[]> {
  if (request.shards === 'all') return complete;
  const selected: ShardManifest[] = [];
  for (const id of request.shards) {
    const manifest = await findShard(from, id, {
      destination: request.names.from,
      ...(request.latest && { latest: request.latest }),
    });
    selected.push(manifest);
  }
  return selected;
}
