import { accessSync, constants, lstatSync, readdirSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import type { InnerManifestEntry } from '../shard/manifest.js';
import { fsPath, nameFromBytes } from '../util/names.mjs';

/** What happens when an incoming entry meets one already in the target. */
export type ConflictStrategy = 'skip_existing' | 'overwrite' | 'merge' | 'rename_new';
export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = [
  'skip_existing',
  'overwrite',
  'merge',
  'rename_new',
];

export type RestoreAction = 'create' | 'overwrite' | 'skip' | 'rename';

/** One entry of the shard and what the restore does with it. */
export interface PlannedChange {
  /** Archive path, `<source>/...`; the same path under the target folder. */
  path: string;
  kind: InnerManifestEntry['type'];
  action: RestoreAction;
  /** rename: the path it gets under the target instead. */
  as?: string;
  /** skip and overwrite: why, e.g. `exists`, `the existing file is newer`. */
  reason?: string;
}

/** A rename from the temporary folder into the target; `replace` moves the existing entry aside first. */
interface Move {
  /** Relative to the temporary folder; '' is the folder itself (a target that does not exist yet). */
  from: string;
  /** Relative to the target. */
  to: string;
  replace: boolean;
}

export interface RestorePlan {
  /** Every selected entry, parents first, except folders that exist already (their contents are listed). */
  changes: PlannedChange[];
  moves: Move[];
  /** Folders this restore creates, at their path under the target, with their manifest entry if they have one. */
  newDirectories: Array<{ path: string; entry?: InnerManifestEntry }>;
  summary: Record<RestoreAction, number>;
  /** Sum of the sizes of the files created, overwritten or renamed; a hard link's bytes are its file's, counted once. */
  bytes: number;
}

export interface PlanInput {
  /** The inner manifest's entries. */
  entries: readonly InnerManifestEntry[];
  selected: (path: string) => boolean;
  /** Absolute path of the target folder. */
  target: string;
  targetExists: boolean;
  /** Undefined: the target must be empty (checked before), nothing can conflict. */
  strategy?: ConflictStrategy;
  /** Shard id, for rename_new's names. */
  id: string;
  /** Device of the temporary folder: every folder receiving an entry must be on it (moves are renames). */
  device?: number;
}

interface Node {
  path: string;
  kind: InnerManifestEntry['type'];
  entry?: InnerManifestEntry;
  children: Node[];
}

/** Problems shown in a refusal; the rest are counted. */
const SHOWN = 10;

/**
 * Decides, before anything in the target is touched, what happens to every
 * selected entry: which renames move it in, what is skipped or renamed, and
 * whether anything stands in the way (a folder where a file would go, a folder
 * on another file system, one not writable). Anything in the way refuses the
 * whole restore here, so the move phase has no predictable reason to fail
 * half-way. Existing symlinks are never followed: a link where the shard has a
 * folder is a conflict like a file.
 */
export function planRestore(input: PlanInput): RestorePlan {
  return new Planner(input).plan();
}

class Planner {
  private readonly result: RestorePlan = {
    changes: [],
    moves: [],
    newDirectories: [],
    summary: { create: 0, overwrite: 0, skip: 0, rename: 0 },
    bytes: 0,
  };
  private readonly blocked: string[] = [];
  /** Existing target folders that receive an entry: checked for device and write permission. */
  private readonly receiving = new Set<string>();
  /** Names taken per target folder (existing ones, incoming ones, new names handed out). */
  private readonly taken = new Map<string, Set<string>>();

  constructor(private readonly input: PlanInput) {}

  plan(): RestorePlan {
    const root = buildTree(this.input.entries, this.input.selected);
    if (!this.input.targetExists) {
      this.result.moves.push({ from: '', to: '', replace: false });
      for (const child of root.children) this.subtree(child, 'create');
    } else {
      this.visit(root);
    }
    this.checkReceiving();
    if (this.blocked.length > 0) {
      const more = this.blocked.length > SHOWN ? `\n  ... and ${this.blocked.length - SHOWN} more` : '';
      throw new MatricError(
        'RESTORE_REFUSED',
        `cannot restore into ${this.input.target}${this.input.strategy ? ` with --conflict ${this.input.strategy}` : ''}:\n  ${this.blocked
          .slice(0, SHOWN)
          .join('\n  ')}${more}\nnothing was changed`,
        {
          hint: 'move those entries away, or use --conflict rename_new (keeps both) or skip_existing',
        },
      );
    }
    return this.result;
  }

  /** `folder` exists in the target as a real folder: decide for each of its incoming children. */
  private visit(folder: Node): void {
    for (const child of folder.children) {
      const existing = lstatSync(fsPath(this.targetPath(child.path)), { throwIfNoEntry: false });
      if (!existing) {
        this.move(child, child.path, false);
        this.subtree(child, 'create');
        continue;
      }
      const isFolder = existing.isDirectory();
      if (child.kind === 'directory' && isFolder) {
        this.visit(child);
        continue;
      }
      this.conflict(folder, child, existing, isFolder);
    }
  }

  private conflict(folder: Node, child: Node, existing: Stats, existingIsFolder: boolean): void {
    const { strategy } = this.input;
    const what = existingIsFolder ? 'a folder' : existing.isSymbolicLink() ? 'a symbolic link' : 'a file';
    const sameKind = !existingIsFolder && child.kind !== 'directory';
    const exists = sameKind ? 'exists' : `exists as ${what}`;
    switch (strategy) {
      case undefined:
        // The target was empty when checked: something was created in it meanwhile.
        this.blocked.push(`${child.path}: appeared in the target during the restore`);
        return;
      case 'skip_existing':
        this.subtree(child, 'skip', undefined, exists);
        return;
      case 'rename_new': {
        const as = this.newName(folder, child.path);
        this.move(child, as, false);
        this.subtree(child, 'rename', as);
        return;
      }
      case 'merge': {
        const incoming = child.entry?.mtime;
        if (incoming === undefined || incoming <= Math.round(existing.mtimeMs)) {
          this.subtree(child, 'skip', undefined, `${exists}, not older than the shard's`);
          return;
        }
        break;
      }
      case 'overwrite':
        break;
    }
    if (existingIsFolder) {
      this.blocked.push(`${child.path}: is a folder in the target and ${article(child.kind)} in the shard`);
      return;
    }
    this.move(child, child.path, true);
    this.subtree(child, 'overwrite', undefined, strategy === 'merge' ? 'the shard is newer' : undefined);
  }

  /** Records `node` and everything below it with one action (a folder moved, skipped or renamed whole). */
  private subtree(node: Node, action: RestoreAction, as?: string, reason?: string): void {
    this.result.changes.push({
      path: node.path,
      kind: node.kind,
      action,
      ...(as !== undefined && { as }),
      ...(reason !== undefined && { reason }),
    });
    this.result.summary[action]++;
    if (node.kind === 'file' && action !== 'skip' && !node.entry?.hardlink)
      this.result.bytes += node.entry?.size ?? 0;
    if (node.kind === 'directory' && action !== 'skip') {
      this.result.newDirectories.push({ path: as ?? node.path, entry: node.entry });
    }
    for (const child of node.children) {
      const childAs = as === undefined ? undefined : `${as}${child.path.slice(node.path.length)}`;
      // Below a moved folder nothing is overwritten: the folder itself was new or replaced whole.
      this.subtree(
        child,
        action === 'overwrite' ? 'create' : action,
        childAs,
        action === 'skip' ? reason : undefined,
      );
    }
  }

  private move(node: Node, to: string, replace: boolean): void {
    this.result.moves.push({ from: node.path, to, replace });
    this.receiving.add(posix.dirname(to) === '.' ? '' : posix.dirname(to));
  }

  /** `name.restored-<id>.ext` beside `path`, or `-2`, `-3`... until no entry has or will have that name. */
  private newName(folder: Node, path: string): string {
    const taken = this.namesIn(folder);
    const base = posix.basename(path);
    const dot = base.lastIndexOf('.');
    const [stem, extension] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
    for (let n = 1; ; n++) {
      const name = `${stem}.restored-${this.input.id}${n === 1 ? '' : `-${n}`}${extension}`;
      if (!taken.has(name)) {
        taken.add(name);
        return folder.path ? `${folder.path}/${name}` : name;
      }
    }
  }

  private namesIn(folder: Node): Set<string> {
    let names = this.taken.get(folder.path);
    if (!names) {
      names = new Set(
        readdirSync(fsPath(this.targetPath(folder.path)), { encoding: 'buffer' }).map(nameFromBytes),
      );
      // Incoming entries of the same folder are taken too: a renamed entry must not land on one.
      for (const child of folder.children) names.add(posix.basename(child.path));
      this.taken.set(folder.path, names);
    }
    return names;
  }

  private checkReceiving(): void {
    for (const folder of this.receiving) {
      // A target that does not exist yet is the temporary folder renamed: nothing to check.
      if (!this.input.targetExists) continue;
      const path = this.targetPath(folder);
      const shown = folder || this.input.target;
      const info = lstatSync(fsPath(path));
      if (this.input.device !== undefined && info.dev !== this.input.device) {
        this.blocked.push(`${shown}: is on another file system than the restore's temporary folder`);
        continue;
      }
      try {
        accessSync(fsPath(path), constants.W_OK | constants.X_OK);
      } catch {
        this.blocked.push(`${shown}: not writable by this user`);
      }
    }
  }

  private targetPath(relative: string): string {
    return relative ? `${this.input.target}/${relative}` : this.input.target;
  }
}

function article(kind: InnerManifestEntry['type']): string {
  return kind === 'symlink' ? 'a symbolic link' : kind === 'file' ? 'a file' : 'a folder';
}

/**
 * The selected entries as a tree, with the folders above them (created by the
 * extraction whether selected or not). Folders the manifest does not list (tar
 * parents) have no entry.
 */
function buildTree(entries: readonly InnerManifestEntry[], selected: (path: string) => boolean): Node {
  const root: Node = { path: '', kind: 'directory', children: [] };
  const nodes = new Map<string, Node>([['', root]]);
  const node = (path: string): Node => {
    let found = nodes.get(path);
    if (!found) {
      found = { path, kind: 'directory', children: [] };
      nodes.set(path, found);
      const parent = path.lastIndexOf('/') < 0 ? '' : path.slice(0, path.lastIndexOf('/'));
      node(parent).children.push(found);
    }
    return found;
  };
  for (const entry of entries) if (selected(entry.path)) node(entry.path);
  // Then every node's entry, a folder above the selection's too (the last one for a path, as
  // before), without a second map of every path: that one was most of the planning's garbage.
  for (const entry of entries) {
    const found = nodes.get(entry.path);
    if (found) {
      found.entry = entry;
      found.kind = entry.type;
    }
  }
  for (const each of nodes.values()) each.children.sort((a, b) => (a.path < b.path ? -1 : 1));
  return root;
}
