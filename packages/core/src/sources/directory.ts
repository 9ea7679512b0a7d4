import {
  closeSync,
  constants,
  type Dirent,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  type Stats,
} from 'node:fs';
import { normalize } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import type { DirectorySourceConfig } from '../config/schema.js';
import { displayName, hasRawBytes, nameFromBytes } from '../util/names.mjs';
import { warning } from '../util/warning.js';
import { sourceReadError } from './errors.js';
import { createPathFilter, type PathFilter } from './filter.js';
import type { IncompletePath, SourceProblems } from './problems.js';
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
  /** Folders left out with a notice, by folderKey: what each one is. */
  skip: ReadonlyMap<string, string>;
  /** Folders holding one of these names are left out (`exclude_if_present`). */
  tags: readonly string[];
  /** With `one_file_system`, the root's device: a folder on another is stored empty. */
  device?: number;
  /** Hears each path an exclude rule left out, with the rule (`run -vv`). */
  onExcluded?: ExcludedListener;
}

/** A path left out by a rule of its source: its archive path and the rule, e.g. `exclude *.tmp`. */
export type ExcludedListener = (path: string, rule: string) => void;

/** A folder seen but not yet emitted: with include globs it only goes out ahead of something included. */
interface PendingFolder {
  entry: DirectoryEntry;
  emitted: boolean;
}

/** A folder of the walk, held open: its children are reached through this descriptor, never by path. */
interface OpenFolder {
  fd: number;
  /** For messages: the path it had when listed, raw bytes shown as `\xNN`. */
  absolute: string;
  /** Relative to the source's root, '' for the root. */
  relative: string;
}

/** Node has no openat(): a child is opened relative to its folder's descriptor through procfs. */
const PROC_FD = '/proc/self/fd/';
/** A folder is entered only if it is one: never through a symbolic link swapped in after the listing. */
const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Walks a directory source depth-first in sorted name order (so the same tree
 * gives the same archive), yielding `<name>/...` entries. Symbolic links are
 * stored as links and never followed; sockets, FIFOs and devices are skipped
 * with a warning. A path that vanishes or cannot be read goes to `problems`
 * (a warning, or SOURCE_FAILED for a strict source); a root that is missing or
 * unreadable fails with SOURCE_FAILED.
 *
 * Every folder is held open while its children are walked and archived, and
 * each child is reached relative to that descriptor (`/proc/self/fd/N/name`,
 * folders with O_NOFOLLOW|O_DIRECTORY): renaming a folder and putting a
 * symbolic link in its place while the run walks cannot lead the walk, or the
 * packer's reads, outside the source. Names are bytes: one that is not UTF-8
 * is kept byte for byte (util/names.mjs).
 */
export async function* walkDirectory(
  source: DirectorySourceConfig,
  problems: SourceProblems,
  /** Folders never archived, by `folderKey`, with what each is: the spool, state and destination folders. */
  skip: ReadonlyMap<string, string> = new Map(),
  onExcluded?: ExcludedListener,
): AsyncGenerator<SourceEntry> {
  yield* walkDirectorySync(source, problems, skip, onExcluded);
}

/**
 * walkDirectory as a synchronous generator, for a consumer that is itself an
 * async generator (readSources): every call of the walk is synchronous. The
 * tree is walked with a stack of open folders in this one generator, not one
 * generator per folder level: each entry is yielded once instead of passing up
 * through every level above it (and through one more generator for the folders
 * above it), which took a fifth of the walk's CPU time on the bench dataset.
 */
export function* walkDirectorySync(
  source: DirectorySourceConfig,
  problems: SourceProblems,
  skip: ReadonlyMap<string, string> = new Map(),
  onExcluded?: ExcludedListener,
): Generator<SourceEntry> {
  // The root itself may be a symlink to the data (e.g. /srv/notes -> /mnt/disk/notes): the configured path is trusted.
  let fd: number;
  try {
    fd = openSync(source.path, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    throw rootError(source, error);
  }
  // The folders being walked, the root first: each is held open until its last child is done.
  const stack: Level[] = [];
  try {
    const root = fstatSync(fd);
    yield folderEntry(source.name, root);
    const walk: Walk = {
      source: source.name,
      filter: createPathFilter(source.include, [...(source.exclude ?? []), ...excludeFrom(source)]),
      problems,
      skip,
      tags: [source.exclude_if_present ?? []].flat(),
      ...(source.one_file_system ? { device: root.dev } : {}),
      ...(onExcluded && { onExcluded }),
    };
    // The root must be listable: a source that yields nothing is not a warning.
    let children: Dirent[];
    try {
      children = listSorted(fd);
    } catch (error) {
      if (existsSync(PROC_FD)) throw sourceReadError(source.name, source.path, error);
      throw new MatricError('SOURCE_FAILED', `source ${source.name}: ${PROC_FD} is not available`, {
        cause: error,
        hint: 'directory sources need Linux with /proc mounted: the walk opens files relative to their folder through it',
      });
    }
    stack.push(level({ fd, absolute: normalize(source.path), relative: '' }, [], children));
    while (stack.length > 0) {
      const current = stack.at(-1)!;
      const child = current.children[current.next++];
      if (child === undefined) {
        stack.pop();
        // The root's descriptor is closed below, with the walk.
        if (stack.length > 0) closeSync(current.folder.fd);
        continue;
      }
      const { folder: parent, ancestors, folderPrefix } = current;
      const name = nameOfListed(child.name);
      const childRelative = parent.relative ? `${parent.relative}/${name}` : name;
      if (walk.filter.isExcluded(childRelative)) {
        walk.onExcluded?.(
          `${walk.source}/${childRelative}`,
          `exclude ${walk.filter.excludedBy(childRelative)}`,
        );
        continue;
      }
      const where = {
        source: walk.source,
        path: `${walk.source}/${childRelative}`,
        absolute: folderPrefix + displayName(name),
      };
      const archivePath = where.path;
      const at = childOf(parent.fd, name, child.name);
      const problem = (error: unknown) => {
        walk.problems.report(where, error);
        return undefined;
      };
      let kind = kindOf(child);
      if (kind === undefined) {
        const info = attempt(() => lstatSync(at), problem);
        if (!info) continue;
        kind = kindOf(info) ?? 'special file';
      }

      if (kind === 'directory') {
        let fd: number;
        try {
          fd = openSync(at, FOLDER_FLAGS);
        } catch (error) {
          // A folder that is there but not ours to read is still stored, empty, with its mode.
          const info = isDenied(error) ? attempt(() => lstatSync(at)) : undefined;
          if (info?.isDirectory() && (!walk.filter.narrowed || walk.filter.isIncluded(childRelative))) {
            for (const entry of unemitted(ancestors)) yield entry;
            yield folderEntry(archivePath, info);
          }
          problem(error);
          continue;
        }
        // Held open from here on: by the stack once its children are listed, else closed here.
        let held = false;
        try {
          const info = fstatSync(fd);
          const what = walk.skip.get(folderKey(info));
          if (what !== undefined) {
            walk.problems.warn(skipped(where, `left out ${where.absolute}: it is ${what}`));
            continue;
          }
          if (holdsTag(fd, walk.tags)) {
            walk.onExcluded?.(
              archivePath,
              `exclude_if_present ${walk.tags.find((tag) => holdsTag(fd, [tag]))}`,
            );
            continue;
          }
          const folder: PendingFolder = { entry: folderEntry(archivePath, info), emitted: false };
          if (!walk.filter.narrowed || walk.filter.isIncluded(childRelative)) {
            for (const entry of unemitted(ancestors)) yield entry;
            folder.emitted = true;
            yield folder.entry;
          }
          // Like GNU tar's --one-file-system: the mount point is kept, empty.
          if (walk.device !== undefined && info.dev !== walk.device) {
            walk.problems.warn(
              skipped(where, `not entered ${where.absolute}: another file system (one_file_system)`),
            );
            continue;
          }
          const grandchildren = attempt(() => listSorted(fd), problem);
          if (!grandchildren) continue;
          const open = { fd, absolute: where.absolute, relative: childRelative };
          stack.push(level(open, [...ancestors, folder], grandchildren));
          held = true;
        } finally {
          if (!held) closeSync(fd);
        }
        continue;
      }
      if (!walk.filter.isIncluded(childRelative)) continue;
      if (kind === 'file') {
        for (const entry of unemitted(ancestors)) yield entry;
        // Opened by the packer while this folder is still held open here.
        yield { type: 'file', path: archivePath, absolute: where.absolute, open: at };
      } else if (kind === 'symlink') {
        const info = attempt(() => lstatSync(at), problem);
        const target =
          info &&
          attempt(
            () => readlinkSync(at, { encoding: 'buffer' }),
            (error: unknown) => {
              // EINVAL: not a symbolic link any more.
              if ((error as NodeJS.ErrnoException)?.code !== 'EINVAL') return problem(error);
              walk.problems.changed(where, 'replaced while the backup ran');
              return undefined;
            },
          );
        if (!info || target === undefined) continue;
        for (const entry of unemitted(ancestors)) yield entry;
        yield {
          type: 'symlink',
          path: archivePath,
          mode: info.mode & 0o7777,
          mtimeMs: info.mtimeMs,
          uid: info.uid,
          gid: info.gid,
          target: nameFromBytes(target),
        };
      } else {
        walk.problems.warn(
          skipped(
            where,
            `skipped ${kind} ${where.absolute}: only files, folders and symbolic links are backed up`,
          ),
        );
      }
    }
  } finally {
    // A walk stopped early (the consumer failed or returned) still closes every folder it holds.
    for (const { folder } of stack.slice(1)) closeSync(folder.fd);
    closeSync(fd);
  }
}

/** A folder being walked: its open descriptor, the folders above it, its sorted children and the next one. */
interface Level {
  folder: OpenFolder;
  ancestors: readonly PendingFolder[];
  children: Dirent[];
  next: number;
  /** The folder's path ending in `/` (normalized, and a listed name has no slash: a concatenation makes a child's path). */
  folderPrefix: string;
}

function level(folder: OpenFolder, ancestors: readonly PendingFolder[], children: Dirent[]): Level {
  const folderPrefix = folder.absolute.endsWith('/') ? folder.absolute : `${folder.absolute}/`;
  return { folder, ancestors, children, next: 0, folderPrefix };
}

const NONE: readonly DirectoryEntry[] = [];

/**
 * The folders above an entry not yet emitted, top down, marked emitted now: they go out ahead of it.
 * Folders go out top down, so when the nearest one is out all are (always, without include globs).
 */
function unemitted(ancestors: readonly PendingFolder[]): readonly DirectoryEntry[] {
  if (ancestors.length === 0 || ancestors[ancestors.length - 1]!.emitted) return NONE;
  const entries: DirectoryEntry[] = [];
  for (const folder of ancestors) {
    if (folder.emitted) continue;
    folder.emitted = true;
    entries.push(folder.entry);
  }
  return entries;
}

/**
 * Synchronous, like the open and fstat around it: a folder is listed in one
 * call, and a trip through libuv's thread pool for each folder (and symbolic
 * link) cost more than the listing itself, most of all on a busy machine.
 * Names come as latin1 strings, one character a byte: exact for any bytes,
 * sorted bytewise by comparing them, and ASCII names are already the name.
 * A folder's listing lives while everything in it is archived, long enough to
 * reach V8's old generation, where a Buffer a name (an object, its
 * ArrayBuffer and the memory behind it) stayed as garbage until the next full
 * collection: ~9 MB of the heap's growth while archiving the bench dataset.
 */
function listSorted(fd: number): Dirent[] {
  const folder = `${PROC_FD}${fd}`;
  let dirents: Dirent[];
  try {
    dirents = readdirSync(folder, { encoding: 'latin1', withFileTypes: true });
  } catch {
    // Where the file system gives no entry types (ext2 without filetype, XFS without ftype, some network
    // file systems), Node lstats each name, a latin1 one re-encoded as UTF-8: a name past ASCII is not
    // found and fails the listing. Names listed as bytes are lstat'ed as they are.
    dirents = readdirSync(folder, { encoding: 'buffer', withFileTypes: true }).map(asLatin1);
  }
  // Byte order, not locale order: the archive must not depend on the machine's locale. Names in a folder differ.
  return dirents.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A folder entry listed as bytes, its name made the latin1 string of them (as listSorted lists names). */
function asLatin1(dirent: Dirent<Buffer>): Dirent {
  const listed = dirent as unknown as Dirent;
  listed.name = dirent.name.toString('latin1');
  return listed;
}

/** A byte past ASCII, in a name listed as latin1 (one character a byte). */
const HIGH_BYTE = /[\x80-\xff]/;

/** The name (util/names.mjs) of a name listed as latin1. */
function nameOfListed(listed: string): string {
  return HIGH_BYTE.test(listed) ? nameFromBytes(Buffer.from(listed, 'latin1')) : listed;
}

/** Whether the folder open as `fd` holds one of `tags` (any kind of entry). */
function holdsTag(fd: number, tags: readonly string[]): boolean {
  return tags.some((tag) => attempt(() => lstatSync(`${PROC_FD}${fd}/${tag}`)) !== undefined);
}

/** `run()`'s result, or `onError`'s when it throws (undefined without one). */
function attempt<T>(run: () => T, onError: (error: unknown) => undefined = () => undefined): T | undefined {
  try {
    return run();
  } catch (error) {
    return onError(error);
  }
}

/** The globs of `exclude_from`: one a line; blank lines and lines starting with `#` are ignored. */
function excludeFrom(source: DirectorySourceConfig): string[] {
  if (source.exclude_from === undefined) return [];
  let text: string;
  try {
    text = readFileSync(source.exclude_from, 'utf8');
  } catch (error) {
    throw new MatricError(
      'SOURCE_FAILED',
      `source ${source.name}: cannot read its exclude_from file ${source.exclude_from}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'fix backup.sources[].exclude_from (relative paths are relative to the config file)',
      },
    );
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function isDenied(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** The path of a child inside the folder open as `fd`, as the system takes it: its name, or its bytes when not UTF-8. */
function childOf(fd: number, name: string, listed: string): string | Buffer {
  const prefix = `${PROC_FD}${fd}/`;
  return hasRawBytes(name) ? Buffer.from(prefix + listed, 'latin1') : prefix + name;
}

/** A missing root is a configuration problem, not a file that went away while the run read it. */
function rootError(source: DirectorySourceConfig, error: unknown): MatricError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOTDIR') {
    return new MatricError('SOURCE_FAILED', `source ${source.name}: ${source.path} is not a folder`, {
      hint: 'a directory source needs a folder; use a command source for a single file or a stream',
    });
  }
  if (code !== 'ENOENT') return sourceReadError(source.name, source.path, error);
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

/** A path left out on purpose: a FILE_SKIPPED warning naming it. */
function skipped(where: IncompletePath, message: string) {
  return warning('FILE_SKIPPED', message, { source: where.source, path: where.path });
}
