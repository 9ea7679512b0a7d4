import type { PruneResult, RetentionPolicy } from '@matric-backup/core';

/** One destination's outcome of `prune` or `cleanup`, as `--json` prints it. */
export interface DestinationPrune {
  name: string;
  type: string;
  policy: RetentionPolicy | null;
  result?: PruneResult;
  error?: { code: string; message: string };
}

/** Ids a prune deletes (or, dry, would): old complete shards, then stale incomplete ones. */
export function plannedDeletions(result: PruneResult): string[] {
  return [
    ...result.decisions.filter((decision) => decision.action === 'delete').map((decision) => decision.id),
    ...result.incomplete.filter((shard) => shard.action === 'delete').map((shard) => shard.id),
  ];
}
