import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import type { DirectorySourceConfig } from '../config/schema.js';
import { sourceReadError } from './errors.js';
import { createPathFilter, type PathFilter } from './filter.js';
import type { SourceProblems } from './problems.js';
import type { SourceEntry } from './types.js';

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
  problems: SourceProblems;
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
 * with a warning. A path that vanishes or cannot be read goes to `problems`
 * (a warning, or SOURCE_FAILED for a strict source); a root that is missing or
 * unreadable fails with SOURCE_FAILED.
 */
export async function* walkDirectory(
  source: DirectorySourceConfig,
  problems: SourceProblems,
  /** Folders never archived, as `folderKey`s: the spool folder the archive is being written to. */
  skip: ReadonlySet<string> = new Set(),
): AsyncGenerator<SourceEntry> {
  // The root itself may be a symlink to the data (e.g. /srv/notes -> /mnt/disk/notes).
  const root = await stat(source.path).catch((error: unknown) => {
    throw rootError(source, error);
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
    problems,
    skip,
  };
  // The root must be listable: a source that yields nothing is not a warning.
  const children = await readSorted(source.path).catch((error: unknown) => {
    throw sourceReadError(source.name, source.path, error);
  });
  yield* walkFolder(walk, source.path, '', [], children);
}

async function* walkFolder(
  walk: Walk,
  absolute: string,
  relative: string,
  ancestors: readonly PendingFolder[],
  dirents: Dirent[],
): AsyncGenerator<SourceEntry> {
  for (const dirent of dirents) {
    const childRelative = relative ? `${relative}/${dirent.name}` : dirent.name;
    if (walk.filter.isExcluded(childRelative)) continue;
    const childAbsolute = join(absolute, dirent.name);
    const where = { source: walk.source, path: `${walk.source}/${childRelative}`, absolute: childAbsolute };
    const archivePath = where.path;
    const problem = (error: unknown) => {
      walk.problems.report(where, error);
      return undefined;
    };
    let kind = kindOf(dirent);
    if (kind === undefined) {
      const info = await lstat(childAbsolute).catch(problem);
      if (!info) continue;
      kind = kindOf(info) ?? 'special file';
    }

    if (kind === 'directory') {
      const info = await lstat(childAbsolute).catch(problem);
      if (!info) continue;
      if (walk.skip.has(folderKey(info))) continue;
      const folder: PendingFolder = { entry: folderEntry(archivePath, info), emitted: false };
      if (!walk.filter.narrowed || walk.filter.isIncluded(childRelative))
        yield* emitWithAncestors(ancestors, folder);
      const children = await readSorted(childAbsolute).catch(problem);
      if (!children) continue;
      yield* walkFolder(walk, childAbsolute, childRelative, [...ancestors, folder], children);
      continue;
    }
    if (!walk.filter.isIncluded(childRelative)) continue;
    if (kind === 'file') {
      yield* emitAncestors(ancestors);
      yield { type: 'file', path: archivePath, absolute: childAbsolute };
    } else if (kind === 'symlink') {
      const info = await lstat(childAbsolute).catch(problem);
      const target = info && (await readlink(childAbsolute).catch(problem));
      if (!info || target === undefined) continue;
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
      walk.problems.warn(
        `skipped ${kind} ${childAbsolute}: only files, folders and symbolic links are backed up`,
      );
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

async function readSorted(absolute: string): Promise<Dirent[]> {
  const entries: Dirent[] = [];
  for await (const dirent of await opendir(absolute, { bufferSize: 256 })) entries.push(dirent);
  // Code-unit order, not locale order: the archive must not depend on the machine's locale.
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A missing root is a configuration problem, not a file that went away while the run read it. */
function rootError(source: DirectorySourceConfig, error: unknown): MatricError {
  if ((error as NodeJS.ErrnoException)?.code !== 'ENOENT')
    return sourceReadError(source.name, source.path, error);
  return new MatricError('SOURCE_FAILED', `source ${source.name}: ${source.path} does not exist`, {
    cause: error,
    hint: 'check backup.sources[].path (relative paths are relative to the config file); the run stored nothing',
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
