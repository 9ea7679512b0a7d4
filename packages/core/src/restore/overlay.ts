import { lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InnerManifestEntry } from '../shard/manifest.js';
import { fsPath } from '../util/names.mjs';

/** One incremental's part of a placement, with paths relative to its folders. */
export interface OverlayInput {
  /** The tree so far (the base and the incrementals before this one, already laid over each other). */
  tree: string;
  /** Where this incremental was extracted. */
  increment: string;
  /** Its entries under the placement that were extracted. */
  entries: readonly InnerManifestEntry[];
  /** Its deleted paths under the placement. */
  deleted: readonly string[];
}

/**
 * Lays an extracted incremental over the tree extracted so far, both in the
 * restore's private temporary folder: the deleted paths go first, then each
 * entry is renamed into place, replacing what was there (a whole folder when
 * the path is no folder any more). Folders the incremental holds are made
 * where missing and keep their contents (their mode and mtime come from the
 * chain's manifest later). A file the incremental only appended to is in the
 * tree already (FileWriter.append). Every folder above a path in the tree is made a
 * real folder first, so nothing is removed or written through a symbolic link.
 */
export function overlayIncrement({ tree, increment, entries, deleted }: OverlayInput): void {
  for (const path of deleted) {
    if (path === '' || !foldersAboveAreReal(tree, path)) continue;
    rmSync(fsPath(join(tree, path)), { recursive: true, force: true });
  }
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const entry of sorted) {
    // Its appended bytes were written into the tree's file as the incremental was extracted.
    if (entry.append) continue;
    makeFoldersAbove(tree, entry.path);
    const there = join(tree, entry.path);
    const existing = lstatSync(fsPath(there), { throwIfNoEntry: false });
    if (entry.type === 'directory') {
      if (existing?.isDirectory()) continue;
      if (existing) rmSync(fsPath(there), { force: true });
      mkdirSync(fsPath(there), { mode: 0o700 });
      continue;
    }
    if (existing) rmSync(fsPath(there), { recursive: existing.isDirectory(), force: true });
    renameSync(fsPath(join(increment, entry.path)), fsPath(there));
  }
}

function foldersAboveAreReal(root: string, path: string): boolean {
  for (let end = path.indexOf('/'); end > 0; end = path.indexOf('/', end + 1)) {
    if (!lstatSync(fsPath(join(root, path.slice(0, end))), { throwIfNoEntry: false })?.isDirectory())
      return false;
  }
  return true;
}

/** Folders above `path` that are missing, or are a file or link, become empty real folders. */
function makeFoldersAbove(root: string, path: string): void {
  for (let end = path.indexOf('/'); end > 0; end = path.indexOf('/', end + 1)) {
    const folder = join(root, path.slice(0, end));
    const info = lstatSync(fsPath(folder), { throwIfNoEntry: false });
    if (info?.isDirectory()) continue;
    if (info) rmSync(fsPath(folder), { force: true });
    mkdirSync(fsPath(folder), { mode: 0o700 });
  }
}
