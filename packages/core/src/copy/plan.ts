import { chainChecker } from '../shard/chain.js';
import type { ShardManifest } from '../shard/manifest.js';

/** One shard of a copy, in the order it is copied. */
export interface CopyStep {
  manifest: ShardManifest;
  /** `present`: the target already holds this shard (same checksum); nothing is written. */
  action: 'copy' | 'present';
  /** Copied as a link of this selected incremental shard's chain, not because it was selected. */
  linkOf?: string;
  /** Ids of the shards this one is restored through (its chain, base first); empty for a full shard. */
  needs: string[];
}

/** A selected shard that cannot be copied, and why. */
export interface CopyRefusal {
  manifest: ShardManifest;
  code: 'CHAIN' | 'CONFLICT';
  reason: string;
}

/**
 * Which shards to copy, in which order: every selected shard oldest first,
 * each incremental one preceded by the links of its chain the target lacks,
 * base first, so the chain on the target is whole at every step. A shard the
 * target holds already is `present`; one that the target holds under the same
 * id with another checksum, or whose chain neither side holds whole, is refused.
 */
export function planCopy(
  selected: readonly ShardManifest[],
  source: readonly ShardManifest[],
  target: readonly ShardManifest[],
): { steps: CopyStep[]; refused: CopyRefusal[] } {
  const onTarget = new Map(target.map((shard) => [shard.id, shard]));
  const onSource = new Map(source.map((shard) => [shard.id, shard]));
  // A link only the target holds still completes a chain there.
  const either = [...source, ...target.filter((shard) => !onSource.has(shard.id))];
  const byId = new Map(either.map((shard) => [shard.id, shard]));
  const chainProblems = chainChecker(either);
  const steps: CopyStep[] = [];
  const planned = new Set<string>();
  const refused: CopyRefusal[] = [];

  const oldestFirst = [...selected].sort(
    (a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id.localeCompare(b.id),
  );
  for (const manifest of oldestFirst) {
    if (planned.has(manifest.id)) continue;
    const [broken] = chainProblems(manifest);
    if (broken) {
      refused.push({ manifest, code: 'CHAIN', reason: `${broken.path}: ${broken.reason}` });
      continue;
    }
    const chain = chainOf(manifest, byId);
    const conflict = chain.find((link) => {
      const there = onTarget.get(link.id);
      return there !== undefined && there.checksum !== link.checksum;
    });
    if (conflict) {
      refused.push({
        manifest,
        code: 'CONFLICT',
        reason: `the target holds another shard under the id ${conflict.id} (checksum ${onTarget.get(conflict.id)!.checksum}, the source's ${conflict.checksum})`,
      });
      continue;
    }
    for (const [index, link] of chain.entries()) {
      if (planned.has(link.id)) continue;
      planned.add(link.id);
      steps.push({
        manifest: link,
        action: onTarget.has(link.id) ? 'present' : 'copy',
        ...(link.id !== manifest.id && { linkOf: manifest.id }),
        needs: chain.slice(0, index).map((earlier) => earlier.id),
      });
    }
  }
  return { steps, refused };
}

/** `manifest`'s chain, base first, ending with itself; its links are known to be in `byId`. */
function chainOf(manifest: ShardManifest, byId: ReadonlyMap<string, ShardManifest>): ShardManifest[] {
  const chain = [manifest];
  for (let link = manifest; link.type === 'incremental'; ) {
    link = byId.get(link.parent)!;
    chain.unshift(link);
  }
  return chain;
}
