import type { InnerManifest, InnerManifestEntry } from '../shard/manifest.js';

/**
 * The tree at one point in time of a chain, as manifest entries: the base's
 * entries, then each incremental laid over them in order. An incremental first
 * takes away its `deleted` paths (with everything under them), then each of its
 * entries replaces what was at that path; an entry of another type than before
 * replaces it whole (a folder that became a file loses what it held). Folders
 * the incremental lists keep what they held: it lists only new and changed
 * entries and the folders above them; a folder it does not list is as before.
 */
export class ChainTree {
  private readonly entries = new Map<string, InnerManifestEntry>();
  /** The names that are hard links to each file: a replaced file finds its other names without a scan. */
  private readonly linksTo = new Map<string, Set<string>>();

  constructor(base: InnerManifest) {
    for (const entry of base.entries) this.put(entry);
  }

  /**
   * Lays an incremental's entries and deletions over the tree. Returns what
   * does not fit: bytes appended to a file the tree does not have as it was
   * when they were stored (another size or sha256, or not a file of one name).
   */
  apply(increment: InnerManifest): string[] {
    const problems: string[] = [];
    // What goes with everything under it: the deletions, and each folder that is no folder any more.
    const gone = new Set(increment.deleted ?? []);
    for (const entry of increment.entries) {
      if (entry.type !== 'directory' && this.entries.get(entry.path)?.type === 'directory')
        gone.add(entry.path);
    }
    this.removeBelow(gone);
    const incoming = new Set(increment.entries.map((entry) => entry.path));
    for (const entry of sortedParentsFirst(increment.entries)) {
      const existing = this.entries.get(entry.path);
      if (entry.append) {
        const problem = this.appendProblem(entry, existing);
        if (problem) problems.push(problem);
      }
      if (existing && existing.type !== 'directory') this.detach(entry.path, incoming);
      this.put(entry);
    }
    return problems;
  }

  /** Whether the tree has the file `entry`'s appended bytes go after: its size and sha256, one name. */
  private appendProblem(
    entry: InnerManifestEntry,
    existing: InnerManifestEntry | undefined,
  ): string | undefined {
    const { from, from_sha256 } = entry.append!;
    const at = `${entry.path}: bytes appended to a file of ${from} bytes with sha256 ${from_sha256}`;
    if (existing?.type !== 'file' || existing.hardlink !== undefined || this.linksTo.has(entry.path)) {
      const what =
        existing?.type === 'file' ? 'a file of other names' : existing ? `a ${existing.type}` : 'nothing';
      return `${at}; the chain before has ${what} there`;
    }
    if (existing.size !== from || existing.sha256 !== from_sha256)
      return `${at}; the chain before has ${existing.size} bytes with sha256 ${existing.sha256}`;
    return undefined;
  }

  /** The tree as an inner manifest (`last`'s fields, the tree's entries, parents first). */
  manifest(last: InnerManifest): InnerManifest {
    return { ...last, entries: sortedParentsFirst([...this.entries.values()]) };
  }

  /** Removes each of `paths` with everything under it, in one pass over the tree. */
  private removeBelow(paths: ReadonlySet<string>): void {
    if (paths.size === 0) return;
    const removed: string[] = [];
    for (const path of this.entries.keys()) if (isAtOrUnder(path, paths)) removed.push(path);
    for (const path of removed) this.drop(path);
    for (const path of removed) this.detach(path, new Set());
  }

  /**
   * The file at `path` goes (replaced or removed): other names of it that stay
   * are still one file with each other, holding what it held, so the first
   * becomes the file and the others its hard links. Names the incremental
   * brings anew (`incoming`) are its own business.
   */
  private detach(path: string, incoming: ReadonlySet<string>): void {
    const names = this.linksTo.get(path);
    if (!names) return;
    let first: string | undefined;
    for (const name of [...names].sort()) {
      if (incoming.has(name)) continue;
      const { hardlink: _gone, ...file } = this.entries.get(name)!;
      if (first === undefined) {
        first = name;
        this.put(file);
      } else {
        this.put({ ...file, hardlink: first });
      }
    }
  }

  private put(entry: InnerManifestEntry): void {
    this.unlink(entry.path);
    this.entries.set(entry.path, entry);
    if (entry.hardlink === undefined) return;
    const names = this.linksTo.get(entry.hardlink);
    if (names) names.add(entry.path);
    else this.linksTo.set(entry.hardlink, new Set([entry.path]));
  }

  private drop(path: string): void {
    this.unlink(path);
    this.entries.delete(path);
  }

  /** Takes `path` out of the index of the file it was a hard link to. */
  private unlink(path: string): void {
    const target = this.entries.get(path)?.hardlink;
    if (target === undefined) return;
    const names = this.linksTo.get(target);
    names?.delete(path);
    if (names?.size === 0) this.linksTo.delete(target);
  }
}

/** Whether `path` is one of `paths` or lies under one of them. */
function isAtOrUnder(path: string, paths: ReadonlySet<string>): boolean {
  for (let at = path; ; at = at.slice(0, at.lastIndexOf('/'))) {
    if (paths.has(at)) return true;
    if (!at.includes('/')) return false;
  }
}

/** A parent folder's path is a prefix of its children's: plain order puts it first. */
function sortedParentsFirst(entries: readonly InnerManifestEntry[]): InnerManifestEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
