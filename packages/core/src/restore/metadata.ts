import { chmodSync, lchownSync, lstatSync, lutimesSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { InnerManifest, InnerManifestEntry } from '../shard/manifest.js';
import { fsPath } from '../util/names.mjs';
import type { OwnerOf } from './owners.js';

export interface MetadataOptions {
  /** Given when owners are kept (root only): each entry's ids; setuid/setgid bits are kept then. */
  ownerOf?: OwnerOf;
}

/** The mode, mtime and owner a file was given when it was written, if it was. */
export type WrittenAs = (
  path: string,
) => { mode: number; mtimeMs: number; uid?: number; gid?: number } | undefined;

/**
 * Checks that every selected manifest entry is on disk in `dir` (the temporary
 * folder) as the right kind, and size for files, then gives files and symlinks
 * their owner (when preserved), mode and mtime (millisecond precision; the tar
 * headers only hold seconds). Folders get theirs once moved into the target
 * (applyFolderMetadata): until then they stay writable, so entries can be moved
 * out of them. Returns the problems found; synchronous like the extraction:
 * a few tiny syscalls per entry, thousands of entries.
 */
export function applyEntryMetadata(
  dir: string,
  inner: InnerManifest,
  selected: (path: string) => boolean,
  options: MetadataOptions,
  writtenAs: WrittenAs = () => undefined,
): string[] {
  const problems: string[] = [];
  for (const entry of inner.entries) {
    if (!selected(entry.path)) continue;
    if (alreadyApplied(entry, writtenAs(entry.path), options)) continue;
    const path = join(dir, entry.path);
    const problem = kindProblem(path, entry) ?? linkProblem(dir, entry);
    if (problem) {
      problems.push(problem);
      continue;
    }
    if (entry.type === 'directory') continue;
    chown(path, entry, options);
    const mtime = new Date(entry.mtime);
    if (entry.type === 'symlink') {
      lutimesSync(fsPath(path), mtime, mtime);
      continue;
    }
    chmodSync(fsPath(path), permissionBits(entry, options));
    utimesSync(fsPath(path), mtime, mtime);
  }
  return problems;
}

/**
 * Gives the folders a restore created their manifest owner, mode and mtime,
 * deepest first, so a read-only folder is locked only once complete and its
 * mtime is set after its children stopped changing it. Folders without a
 * manifest entry (tar parents) keep what they have.
 */
export function applyFolderMetadata(
  root: string,
  folders: ReadonlyArray<{ path: string; entry?: InnerManifestEntry }>,
  options: MetadataOptions,
): void {
  const deepestFirst = [...folders].sort((a, b) => depth(b.path) - depth(a.path));
  for (const { path, entry } of deepestFirst) {
    if (!entry) continue;
    const full = join(root, path);
    // chmod and utimes follow links: a folder turned into one since the move is left alone.
    if (!lstatSync(fsPath(full), { throwIfNoEntry: false })?.isDirectory()) continue;
    chown(full, entry, options);
    const mtime = new Date(entry.mtime);
    chmodSync(fsPath(full), permissionBits(entry, options));
    utimesSync(fsPath(full), mtime, mtime);
  }
}

/**
 * A file this restore wrote (O_EXCL, in its private folder) that already has the
 * manifest's mode, mtime and owner needs nothing more: its kind, size and sha256
 * are checked against the manifest by the contents check.
 */
function alreadyApplied(
  entry: InnerManifestEntry,
  written: ReturnType<WrittenAs>,
  options: MetadataOptions,
): boolean {
  if (entry.type !== 'file' || written === undefined) return false;
  const owner = options.ownerOf?.(entry);
  return (
    written.mode === permissionBits(entry, options) &&
    written.mtimeMs === entry.mtime &&
    written.uid === owner?.uid &&
    written.gid === owner?.gid
  );
}

function kindProblem(path: string, entry: InnerManifestEntry): string | undefined {
  const info = lstatSync(fsPath(path), { throwIfNoEntry: false });
  if (!info) return `${entry.path}: missing after extraction`;
  if (entry.type === 'directory')
    return info.isDirectory() ? undefined : `${entry.path}: not a directory after extraction`;
  if (entry.type === 'symlink')
    return info.isSymbolicLink() ? undefined : `${entry.path}: not a symlink after extraction`;
  if (!info.isFile()) return `${entry.path}: not a regular file after extraction`;
  if (info.size !== entry.size)
    return `${entry.path}: ${info.size} bytes on disk, ${entry.size} in the manifest`;
  return undefined;
}

/** A hard link must be the same file as the one it names, not a copy. */
function linkProblem(dir: string, entry: InnerManifestEntry): string | undefined {
  if (entry.hardlink === undefined) return undefined;
  const [link, file] = [entry.path, entry.hardlink].map((path) =>
    lstatSync(fsPath(join(dir, path)), { throwIfNoEntry: false }),
  );
  return link?.ino === file?.ino && link?.dev === file?.dev
    ? undefined
    : `${entry.path}: not a hard link to ${entry.hardlink} after extraction`;
}

function chown(path: string, entry: InnerManifestEntry, options: MetadataOptions): void {
  const owner = options.ownerOf?.(entry);
  if (owner) lchownSync(fsPath(path), owner.uid, owner.gid);
}

/**
 * Without its owner, an entry belongs to whoever runs the restore, so
 * setuid/setgid bits are dropped: a setuid file of some user must not come
 * back as a setuid file of root. chown clears them anyway, so they are set after it.
 */
function permissionBits(entry: InnerManifestEntry, options: MetadataOptions): number {
  return options.ownerOf?.(entry) ? entry.mode & 0o7777 : entry.mode & 0o1777;
}

function depth(path: string): number {
  return path.split('/').length;
}
