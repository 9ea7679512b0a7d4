import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DirectorySourceConfig } from '../config/schema.js';
import { MatricError } from '../errors.js';
import { sourceReadError } from './errors.js';
import { createPathFilter, type PathFilter } from './filter.js';
import type { SourceEntry, WarningSink } from './types.js';

type DirectoryEntry = Extract<SourceEntry, { type: 'directory' }>;
type Kind =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'socket'
  | 'FIFO'
  | 'block device'
  | 'character device'
  | 'special file';

interface Walk {
  source: string;
  filter: PathFilter;
  warn: WarningSink;
  skip: ReadonlySet<string>;
}

/** A folder seen but not yet emitted: with include globs it only goes out ahead of something included. */
interface PendingFolder {
  entry: DirectoryEntry;
  emitted: boolean;
}

/**
 * Walks a directory source depth-first in sorted name order (so the same tree
 * gives the same archive), yielding `<name>/...` entries. Symbolic links are
 * stored as links and never followed; sockets, FIFOs and devices are skipped
 * with a warning; anything that cannot be read fails with SOURCE_FAILED.
 */
export async function* walkDirectory(
  source: DirectorySourceConfig,
  warn: WarningSink,
  /** Folders never archived, as `folderKey`s: the spool folder the archive is being written to. */
  skip: ReadonlySet<string> = new Set(),
): AsyncGenerator<SourceEntry> {
  // The root itself may be a symlink to the data (e.g. /srv/notes -> /mnt/disk/notes).
  const root = await stat(source.path).catch((error: unknown) => {
    throw sourceReadError(source.name, source.path, error);
  });
  if (!root.isDirectory()) {
    throw new MatricError('SOURCE_FAILED', `source ${source.name}: ${source.path} is not a folder`, {
      hint: 'a directory source needs a folder; use a command source for a single file or a stream',
    });
  }
  yield folderEntry(source.name, root);
  const walk: Walk = {
    source: source.name,
    filter: createPathFilter(source.include, source.exclude),
    warn,
    skip,
  };
  yield* walkFolder(walk, source.path, '', []);
}

async function* walkFolder(
  walk: Walk,
  absolute: string,
  relative: string,
  ancestors: readonly PendingFolder[],
): AsyncGenerator<SourceEntry> {
  for (const dirent of await readSorted(walk, absolute)) {
    const childRelative = relative ? `${relative}/${dirent.name}` : dirent.name;
    if (walk.filter.isExcluded(childRelative)) continue;
    const childAbsolute = join(absolute, dirent.name);
    const archivePath = `${walk.source}/${childRelative}`;
    const kind = kindOf(dirent) ?? kindOf(await lstatOrFail(walk, childAbsolute)) ?? 'special file';

    if (kind === 'directory') {
      const info = await lstatOrFail(walk, childAbsolute);
      if (walk.skip.has(folderKey(info))) continue;
      const folder: PendingFolder = { entry: folderEntry(archivePath, info), emitted: false };
      if (!walk.filter.narrowed || walk.filter.isIncluded(childRelative))
        yield* emitWithAncestors(ancestors, folder);
      yield* walkFolder(walk, childAbsolute, childRelative, [...ancestors, folder]);
      continue;
    }
    if (!walk.filter.isIncluded(childRelative)) continue;
    if (kind === 'file') {
      yield* emitAncestors(ancestors);
      yield { type: 'file', path: archivePath, absolute: childAbsolute };
    } else if (kind === 'symlink') {
      const info = await lstatOrFail(walk, childAbsolute);
      const target = await readlink(childAbsolute).catch((error: unknown) => {
        throw sourceReadError(walk.source, childAbsolute, error);
      });
      yield* emitAncestors(ancestors);
      yield {
        type: 'symlink',
        path: archivePath,
        mode: info.mode & 0o7777,
        mtimeMs: info.mtimeMs,
        uid: info.uid,
        gid: info.gid,
        target,
      };
    } else {
      walk.warn(`skipped ${kind} ${childAbsolute}: only files, folders and symbolic links are backed up`);
    }
  }
}

function* emitAncestors(ancestors: readonly PendingFolder[]): Generator<SourceEntry> {
  for (const folder of ancestors) {
    if (folder.emitted) continue;
    folder.emitted = true;
    yield folder.entry;
  }
}

function* emitWithAncestors(
  ancestors: readonly PendingFolder[],
  folder: PendingFolder,
): Generator<SourceEntry> {
  yield* emitAncestors(ancestors);
  folder.emitted = true;
  yield folder.entry;
}

async function readSorted(walk: Walk, absolute: string): Promise<Dirent[]> {
  const entries: Dirent[] = [];
  try {
    for await (const dirent of await opendir(absolute, { bufferSize: 256 })) entries.push(dirent);
  } catch (error) {
    throw sourceReadError(walk.source, absolute, error);
  }
  // Code-unit order, not locale order: the archive must not depend on the machine's locale.
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function lstatOrFail(walk: Walk, absolute: string): Promise<Stats> {
  return lstat(absolute).catch((error: unknown) => {
    throw sourceReadError(walk.source, absolute, error);
  });
}

/** undefined when the file system did not say (DT_UNKNOWN): the caller asks lstat. */
function kindOf(info: Dirent | Stats): Kind | undefined {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'directory';
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isSocket()) return 'socket';
  if (info.isFIFO()) return 'FIFO';
  if (info.isBlockDevice()) return 'block device';
  if (info.isCharacterDevice()) return 'character device';
  return undefined;
}

/** Identifies a folder however it is reached (symlinked parents, `..`, bind mounts). */
export function folderKey(info: Pick<Stats, 'dev' | 'ino'>): string {
  return `${info.dev}:${info.ino}`;
}

function folderEntry(path: string, info: Stats): DirectoryEntry {
  return {
    type: 'directory',
    path,
    mode: info.mode & 0o7777,
    mtimeMs: info.mtimeMs,
    uid: info.uid,
    gid: info.gid,
  };
}
