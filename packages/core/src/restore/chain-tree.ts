import type { InnerManifest, InnerManifestEntry } from '../shard/manifest.js';

/**
 * The tree at one point in time of a chain, as manifest entries: the base's
 * entries, then each incremental laid over them in order. An incremental first
 * takes away its `deleted` paths (with everything under them), then each of its
 * entries replaces what was at that path; an entry of another type than before
 * replaces it whole (a folder that became a file loses what it held). Folders
 * the incremental lists keep what they held: it lists every folder, and only
 * the files that are new or changed.
 */
export class ChainTree {
  private readonly entries = new Map<string, InnerManifestEntry>();

  constructor(base: InnerManifest) {
    for (const entry of base.entries) this.entries.set(entry.path, entry);
  }

  /** Lays an incremental's entries and deletions over the tree. */
  apply(increment: InnerManifest): void {
    for (const path of increment.deleted ?? []) this.remove(path, true);
    const incoming = new Set(increment.entries.map((entry) => entry.path));
    for (const entry of sortedParentsFirst(increment.entries)) {
      const existing = this.entries.get(entry.path);
      if (existing) {
        // A folder that is no folder any more takes what it held with it.
        if (existing.type === 'directory' && entry.type !== 'directory') this.remove(entry.path, true);
        else if (existing.type !== 'directory') this.detach(entry.path, incoming);
      }
      this.entries.set(entry.path, entry);
    }
  }

  /** The tree as an inner manifest (`last`'s fields, the tree's entries, parents first). */
  manifest(last: InnerManifest): InnerManifest {
    return { ...last, entries: sortedParentsFirst([...this.entries.values()]) };
  }

  /** Removes `path`, and with `below` everything under it. */
  private remove(path: string, below: boolean): void {
    const prefix = `${path}/`;
    for (const key of [...this.entries.keys()]) {
      if (key === path || (below && key.startsWith(prefix))) {
        this.entries.delete(key);
        this.detach(key, new Set());
      }
    }
  }

  /**
   * The file at `path` goes (replaced or removed): other names of it that stay
   * are still one file with each other, holding what it held, so the first
   * becomes the file and the others its hard links. Names the incremental
   * brings anew (`incoming`) are its own business.
   */
  private detach(path: string, incoming: ReadonlySet<string>): void {
    let first: string | undefined;
    for (const entry of this.entries.values()) {
      if (entry.hardlink !== path || incoming.has(entry.path)) continue;
      const { hardlink: _gone, ...file } = entry;
      if (first === undefined) {
        first = entry.path;
        this.entries.set(entry.path, file);
      } else {
        this.entries.set(entry.path, { ...file, hardlink: first });
      }
    }
  }
}

/** A parent folder's path is a prefix of its children's: plain order puts it first. */
function sortedParentsFirst(entries: readonly InnerManifestEntry[]): InnerManifestEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
