import { createHash } from 'node:crypto';
import { unsafePathReason } from './entry-guard.js';
import { INNER_MANIFEST_NAME, type InnerManifest, type InnerManifestEntry } from './manifest.js';
import { problem, type ShardProblem, type ShardProblemCode } from './problem.js';
import type { GuardedEntry } from './walk.js';

/** What the archive actually held for one path. */
export interface SeenEntry {
  type: InnerManifestEntry['type'];
  size: number;
  /** Files: lowercase hex of the content as read. */
  sha256?: string;
  /** Symlinks. */
  target?: string;
  /** Hard links: the archive path of the file they name; size, sha256 and `written` are that file's. */
  hardlink?: string;
  /** Files restored: the permission bits and mtime (ms) already set on the written file. */
  written?: { mode: number; mtimeMs: number; uid?: number; gid?: number };
  /** Bytes appended to a file (InnerManifestEntry.append), read alone (verify, a dry run): size and sha256 are theirs. */
  tail?: true;
  /** Bytes appended to the file the earlier links restored, which had this many: size and sha256 are the whole file's. */
  appendedTo?: number;
}

/**
 * Collects the archive's entries as they stream by and compares them with the
 * inner manifest, which arrives last. Every problem is kept (verify lists them
 * all); there is at most one per manifest entry or archive entry.
 */
export class ContentsCheck {
  private readonly seen = new Map<string, SeenEntry>();
  private readonly problems: ShardProblem[] = [];

  record(path: string, entry: SeenEntry): void {
    if (this.seen.has(path)) this.problem(path, 'DUPLICATE', 'appears more than once in the archive');
    this.seen.set(path, entry);
  }

  private problem(path: string, code: ShardProblemCode, reason: string): void {
    this.problems.push(problem(path, code, reason));
  }

  /** What was recorded for `path`; for a hard link, what the file it names held. */
  get(path: string): SeenEntry | undefined {
    const seen = this.seen.get(path);
    if (seen?.hardlink === undefined) return seen;
    const file = this.seen.get(seen.hardlink);
    return { ...file, type: 'file', size: file?.size ?? 0, hardlink: seen.hardlink };
  }

  get filesChecked(): number {
    let count = 0;
    for (const entry of this.seen.values())
      if (entry.type === 'file' && (entry.sha256 || entry.hardlink !== undefined)) count++;
    return count;
  }

  /**
   * Compares what was seen with `inner`. Only paths `selected` (all by default)
   * are expected; directories not in the manifest are tolerated (tar may carry
   * parent folders), extra files and links are not.
   */
  compare(
    inner: InnerManifest,
    expectedId: string,
    selected: (path: string) => boolean = () => true,
  ): ShardProblem[] {
    if (inner.id !== expectedId)
      this.problem(INNER_MANIFEST_NAME, 'INNER_MANIFEST', `belongs to shard ${inner.id}, not ${expectedId}`);
    const expected = new Set<string>();
    for (const entry of inner.entries) {
      if (!selected(entry.path)) continue;
      expected.add(entry.path);
      const seen = this.get(entry.path);
      if (!seen) this.problem(entry.path, 'MISSING', 'in the manifest but missing from the archive');
      else this.compareEntry(entry, seen);
    }
    // A restore removes what an incremental lists as deleted from the tree it builds: nothing listed may lead out of it.
    for (const path of inner.deleted ?? []) {
      const unsafe = unsafePathReason(path);
      if (unsafe) this.problem(path, 'UNSAFE_ENTRY', `listed as deleted: ${unsafe}`);
    }
    for (const [path, seen] of this.seen) {
      if (expected.has(path) || !selected(path)) continue;
      if (seen.type !== 'directory')
        this.problem(path, 'NOT_IN_MANIFEST', `${seen.type} in the archive but not in the manifest`);
    }
    return this.report();
  }

  /** Problems so far. */
  report(): ShardProblem[] {
    return [...this.problems];
  }

  private compareEntry(entry: InnerManifestEntry, seen: SeenEntry): void {
    const { path } = entry;
    if (seen.type !== entry.type) {
      this.problem(path, 'TYPE_MISMATCH', `${seen.type} in the archive, ${entry.type} in the manifest`);
      return;
    }
    if (entry.type === 'symlink' && seen.target !== entry.target) {
      this.problem(
        path,
        'LINK_MISMATCH',
        `link to ${seen.target} in the archive, to ${entry.target} in the manifest`,
      );
    }
    if (entry.type !== 'file') return;
    if (seen.hardlink !== entry.hardlink) {
      const what = (link: string | undefined) =>
        link === undefined ? 'a file of its own' : `a hard link to ${link}`;
      this.problem(
        path,
        'LINK_MISMATCH',
        `${what(seen.hardlink)} in the archive, ${what(entry.hardlink)} in the manifest`,
      );
      return;
    }
    const appended = seen.tail === true || seen.appendedTo !== undefined;
    const { append } = entry;
    if (appended !== (append !== undefined)) {
      const what = (tail: boolean) => (tail ? 'bytes to append to the file' : 'the whole file');
      this.problem(
        path,
        'TYPE_MISMATCH',
        `${what(appended)} in the archive, ${what(!appended)} in the manifest`,
      );
      return;
    }
    if (append && seen.appendedTo !== undefined && seen.appendedTo !== append.from) {
      this.problem(
        path,
        'SIZE_MISMATCH',
        `bytes appended to a file of ${seen.appendedTo} bytes, the manifest says ${append.from}`,
      );
      return;
    }
    // Appended bytes read alone are checked against their own size and sha256.
    const tail = append !== undefined && seen.tail === true;
    const size = tail ? (entry.size ?? 0) - append.from : entry.size;
    const sha256 = tail ? append.sha256 : entry.sha256;
    if (seen.sha256 === undefined) {
      this.problem(path, 'CONTENT_MISMATCH', 'content was not read');
    } else if (seen.size !== size) {
      this.problem(
        path,
        'SIZE_MISMATCH',
        `${seen.size}${tail ? ' appended' : ''} bytes in the archive, ${size} in the manifest`,
      );
    } else if (seen.sha256 !== sha256) {
      this.problem(
        path,
        'CONTENT_MISMATCH',
        `${tail ? 'appended bytes differ' : 'content differs'} from the manifest (sha256 ${seen.sha256}, expected ${sha256})`,
      );
    }
  }
}

/** What one entry held: a file's content is hashed as it streams by. */
export async function seenEntry(entry: GuardedEntry, content: AsyncIterable<Buffer>): Promise<SeenEntry> {
  if (entry.kind === 'hardlink') return { type: 'file', size: 0, hardlink: entry.target };
  if (entry.kind !== 'file') return { type: entry.kind, size: entry.size, target: entry.target };
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of content) {
    hash.update(chunk);
    size += chunk.length;
  }
  return {
    type: 'file',
    size,
    sha256: hash.digest('hex'),
    ...(entry.appendTo !== undefined && { tail: true }),
  };
}
