/** A shard as a link of a chain: an incremental one names its parent, a full one none. */
export interface ChainLink {
  id: string;
  /** Incremental shards only: the shard it was made against. */
  parent?: string;
}

/**
 * Every shard among `shards` that needs `id` to be restored: its incrementals,
 * theirs, and so on. Children come after their parents, so deleting the
 * returned shards from the end backwards never leaves one without its parent.
 */
export function dependentsOf<T extends ChainLink>(shards: readonly T[], id: string): T[] {
  const children = childrenOf(shards);
  const found: T[] = [];
  const queue = [id];
  const seen = new Set(queue);
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child.id)) continue;
      seen.add(child.id);
      found.push(child);
      queue.push(child.id);
    }
  }
  return found;
}

/** The shards among `shards` that `id` needs to be restored, nearest first (its parent, ..., the base). */
export function ancestorsOf<T extends ChainLink>(shards: readonly T[], id: string): T[] {
  const byId = new Map(shards.map((shard) => [shard.id, shard]));
  const found: T[] = [];
  const seen = new Set([id]);
  for (let parent = byId.get(id)?.parent; parent !== undefined && !seen.has(parent); ) {
    seen.add(parent);
    const shard = byId.get(parent);
    if (!shard) break;
    found.push(shard);
    parent = shard.parent;
  }
  return found;
}

function childrenOf<T extends ChainLink>(shards: readonly T[]): Map<string, T[]> {
  const children = new Map<string, T[]>();
  for (const shard of shards) {
    if (shard.parent === undefined) continue;
    const list = children.get(shard.parent);
    if (list) list.push(shard);
    else children.set(shard.parent, [shard]);
  }
  return children;
}
