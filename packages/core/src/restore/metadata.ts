import { chmodSync, lstatSync, lutimesSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { InnerManifest, InnerManifestEntry } from '../shard/manifest.js';

export interface AppliedMetadata {
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of the restored files' sizes. */
  bytes: number;
  /** Entries missing or of the wrong kind on disk after extraction. */
  problems: string[];
}

/**
 * Checks that every selected manifest entry is on disk in `dir` as the right
 * kind (and size, for files), then gives it the manifest's mode and mtime
 * (millisecond precision; the tar headers only hold seconds). Directories come
 * last, deepest first, so writing their children does not bump their mtime and a
 * read-only folder is locked only once it is complete. Synchronous like the
 * extraction: three tiny syscalls per entry, thousands of entries.
 */
export function applyMetadata(
  dir: string,
  inner: InnerManifest,
  selected: (path: string) => boolean,
): AppliedMetadata {
  const result: AppliedMetadata = { files: 0, directories: 0, symlinks: 0, bytes: 0, problems: [] };
  for (const entry of inner.entries) {
    if (entry.type === 'directory' || !selected(entry.path)) continue;
    const path = join(dir, entry.path);
    const problem = kindProblem(path, entry);
    if (problem) {
      result.problems.push(problem);
      continue;
    }
    const mtime = new Date(entry.mtime);
    if (entry.type === 'symlink') {
      lutimesSync(path, mtime, mtime);
      result.symlinks++;
      continue;
    }
    chmodSync(path, permissionBits(entry.mode));
    utimesSync(path, mtime, mtime);
    result.files++;
    result.bytes += entry.size ?? 0;
  }

  // Parents of selected entries were created by extraction even when not selected themselves.
  const directories = inner.entries
    .filter((entry) => entry.type === 'directory')
    .sort((a, b) => depth(b.path) - depth(a.path));
  for (const entry of directories) {
    const path = join(dir, entry.path);
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (!info) {
      if (selected(entry.path)) result.problems.push(`${entry.path}: directory missing after extraction`);
      continue;
    }
    if (!info.isDirectory()) {
      result.problems.push(`${entry.path}: not a directory after extraction`);
      continue;
    }
    const mtime = new Date(entry.mtime);
    chmodSync(path, permissionBits(entry.mode));
    utimesSync(path, mtime, mtime);
    result.directories++;
  }
  return result;
}

function kindProblem(path: string, entry: InnerManifestEntry): string | undefined {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return `${entry.path}: missing after extraction`;
  if (entry.type === 'symlink')
    return info.isSymbolicLink() ? undefined : `${entry.path}: not a symlink after extraction`;
  if (!info.isFile()) return `${entry.path}: not a regular file after extraction`;
  if (info.size !== entry.size)
    return `${entry.path}: ${info.size} bytes on disk, ${entry.size} in the manifest`;
  return undefined;
}

/**
 * Owners are not restored (files belong to whoever runs the restore), so
 * setuid/setgid bits are dropped: a setuid file of some user must not come back
 * as a setuid file of root.
 */
function permissionBits(mode: number): number {
  return mode & 0o1777;
}

function depth(path: string): number {
  return path.split('/').length;
}
