import type { InnerManifestEntry } from '../shard/manifest.js';

/** What differs between two versions of one path. */
export type ChangedField = 'type' | 'content' | 'mode' | 'owner' | 'target';

export interface TreeChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  /** The entry's type in the newer tree (the older one's for a removal). */
  type: InnerManifestEntry['type'];
  /** Files: size in the older and the newer tree, where the path is a file there. */
  old_size?: number;
  new_size?: number;
  /** Modified only: what changed. An mtime alone is no change: the content decides. */
  fields?: ChangedField[];
}

/**
 * The changes from tree `from` to tree `to`, by path in plain order (a folder
 * before what it holds). A removed or added folder is listed with each entry
 * under it, as `ls` would show them.
 */
export function diffTrees(
  from: readonly InnerManifestEntry[],
  to: readonly InnerManifestEntry[],
): TreeChange[] {
  const before = new Map(from.map((entry) => [entry.path, entry]));
  const changes: TreeChange[] = [];
  for (const entry of to) {
    const old = before.get(entry.path);
    before.delete(entry.path);
    if (!old) {
      changes.push({ path: entry.path, change: 'added', type: entry.type, ...sizes(undefined, entry) });
      continue;
    }
    const fields = changedFields(old, entry);
    if (fields.length > 0)
      changes.push({ path: entry.path, change: 'modified', type: entry.type, ...sizes(old, entry), fields });
  }
  for (const old of before.values())
    changes.push({ path: old.path, change: 'removed', type: old.type, ...sizes(old, undefined) });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function sizes(
  old: InnerManifestEntry | undefined,
  now: InnerManifestEntry | undefined,
): Pick<TreeChange, 'old_size' | 'new_size'> {
  return {
    ...(old?.type === 'file' && { old_size: old.size ?? 0 }),
    ...(now?.type === 'file' && { new_size: now.size ?? 0 }),
  };
}

function changedFields(old: InnerManifestEntry, now: InnerManifestEntry): ChangedField[] {
  if (old.type !== now.type) return ['type'];
  const fields: ChangedField[] = [];
  if (now.type === 'file') {
    const same =
      old.sha256 !== undefined && now.sha256 !== undefined
        ? old.sha256 === now.sha256 && old.size === now.size
        : old.size === now.size;
    if (!same) fields.push('content');
  }
  if (old.mode !== now.mode) fields.push('mode');
  if (old.uid !== now.uid || old.gid !== now.gid || old.user !== now.user || old.group !== now.group)
    fields.push('owner');
  if (now.type === 'symlink' && old.target !== now.target) fields.push('target');
  return fields;
}
