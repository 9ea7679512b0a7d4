import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { ShardChanges } from '../shard/manifest.js';
import type { SourceEntry, SourceWarning } from '../sources/types.js';
import type { FileRecord } from './file-list.js';

export type CompareMode = 'metadata' | 'content';

export interface ChangeDetectorOptions {
  /** The file list at the parent's time; absent for a full shard (every entry is kept, the list is still made). */
  parent?: ReadonlyMap<string, FileRecord>;
  compare: CompareMode;
  /** Names of command sources: their output is always stored whole. */
  commandSources: ReadonlySet<string>;
  /**
   * Takes each record of the list at this run's time once it is final, a
   * folder before what it holds (the list file as it is written): the detector
   * keeps none, so its memory does not grow with the tree.
   */
  onRecord: (record: FileRecord) => void;
  /**
   * The run's warnings, growing as it goes. The packer reports a file's before
   * it reports the file archived, so its record is final then: a file with any
   * warning (changed while read, unreadable partway and stored zero-padded)
   * keeps its record, so its deletion is still noticed, but nothing the next
   * run could match it by: it is stored again as soon as it reads cleanly.
   */
  warnings: readonly SourceWarning[];
}

/** Never follow a link swapped in after the walk; never block on a FIFO swapped in. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const READ_CHUNK = 1 << 20;
/**
 * A file that only grew is stored as the bytes it gained when it had at least
 * this many before. Below it the whole file costs little more than the tar
 * header, manifest fields and restore-time work an appended entry takes, and
 * most files of a tree are that small: they are stored whole, as before.
 */
export const APPEND_MIN_BYTES = 64 * 1024;

/**
 * Decides, entry by entry, what a shard stores, and records the file list at
 * this run's time for the next one. With a parent list only new and changed
 * entries go on, each with the folders above it (so that tar, extracting it
 * by hand, puts back the mode and mtime of every folder it writes into);
 * without one every entry does. A folder that is the same as in the parent
 * and holds nothing stored is left out: restoring takes it from an earlier
 * link. An unchanged file is decided by lstat alone in `metadata` mode (size,
 * mtime, ctime, inode, mode, owner), so it is never opened; `content` mode
 * reads and hashes every file. A file of one name that is bigger than in the
 * parent's list goes on marked `grewFrom` (see grewFrom()): the packer then
 * stores only its new bytes if the old ones are still at its start.
 */
export class ChangeDetector {
  readonly changes: ShardChanges = { created: 0, modified: 0, deleted: 0 };
  /**
   * Files handed on but not yet archived, in walk order, with the record
   * keep() made of a command's output (any other file's record is made from
   * the packer's fstat). One never archived (vanished, unreadable) is not in
   * this shard, nor in the list. The packer archives them in the order it
   * gets them, so this is a queue of one file, or a few that failed: a Map
   * there, long-lived and so in V8's old generation, got a new table there
   * every few files it took and gave back (~4 MB of garbage a full
   * collection frees, for the bench dataset's 30,452 files).
   */
  private readonly pending: Array<{ path: string; record: FileRecord | undefined }> = [];
  /** With a parent: the paths listed now, to find the parent's gone ones. */
  private readonly present?: Set<string>;
  /** Folders of the parent that are something else now: extracting them replaces what the folder held. */
  private readonly replaced = new Set<string>();
  private readonly warned = new Set<string>();
  private warningsSeen = 0;
  private deletedPaths?: string[];
  /** Set by keep() for the file it just let through, when that one may only have grown. */
  private grew?: { size: number; sha256: string };

  constructor(private readonly options: ChangeDetectorOptions) {
    if (options.parent) this.present = new Set();
  }

  /** One source's entries (synchronous, as the walk is: no promise per entry), in walk order. */
  *select(entries: Iterable<SourceEntry>): Generator<SourceEntry> {
    // Unchanged folders above the current entry, not yet stored: the walk is depth-first, a folder
    // before what it holds, so they form one line down from a stored folder (or the top).
    const waiting: SourceEntry[] = [];
    for (const entry of entries) {
      const keep = this.keep(entry);
      while (waiting.length > 0 && !entry.path.startsWith(`${waiting.at(-1)!.path}/`)) waiting.pop();
      if (entry.type === 'directory' && !keep) {
        waiting.push(entry);
        continue;
      }
      if (!keep) continue;
      yield* waiting;
      waiting.length = 0;
      const grewFrom = this.grew;
      yield grewFrom && entry.type === 'file' ? { ...entry, grewFrom } : entry;
    }
  }

  /** Whether the parent shard's list holds this path (a stored file there is changed, else new). */
  inParent(path: string): boolean {
    return this.options.parent?.has(path) === true;
  }

  /**
   * The packer archived this file with this content (`info`: its fstat, which
   * its tar header was made from): the next run compares against it.
   */
  archived(path: string, sha256: string, info: Stats, grewWhileRead = false): void {
    const made = this.takePending(path);
    this.present?.add(path);
    // A command's output keeps the record keep() made (never matched by its stat). Any other file's is
    // the fstat, not the lstat keep() made it from: a file that grew in between is stored as the fstat
    // says, and a record of the smaller size with the bigger content's sha256 would make the next run
    // store it whole.
    const record = made ?? fileRecord(path, info);
    if (record.type === 'file') record.sha256 = sha256;
    this.emit(record, grewWhileRead);
  }

  /**
   * Paths of the parent gone now, once every entry was seen: a removed folder
   * once, not its contents, and nothing under a folder that became a file or
   * link (extracting that entry replaces the folder).
   */
  deleted(): string[] {
    if (this.deletedPaths) return this.deletedPaths;
    for (const { path } of this.pending) this.present?.delete(path);
    this.pending.length = 0;
    const deleted: string[] = [];
    const gone = new Set<string>();
    for (const path of this.options.parent?.keys() ?? []) {
      if (this.present?.has(path)) continue;
      gone.add(path);
      const up = path.slice(0, Math.max(0, path.lastIndexOf('/')));
      if (gone.has(up) || this.replaced.has(up)) continue;
      deleted.push(path);
    }
    this.changes.deleted = deleted.length;
    this.deletedPaths = deleted;
    return deleted;
  }

  /**
   * The record keep() made of a file handed on, now archived; the files
   * handed on before it were never archived: they are not listed now.
   */
  private takePending(path: string): FileRecord | undefined {
    const at = this.pending.findIndex((file) => file.path === path);
    if (at < 0) return undefined;
    for (let i = 0; i < at; i++) this.present?.delete(this.pending.shift()!.path);
    return this.pending.shift()!.record;
  }

  /**
   * Hands a final record on, without what a next run could match a file warned
   * about by. Except a file that only got longer while read whole (a log being
   * written to): its record is the size and sha256 of what was stored, so the
   * next run, seeing it bigger, stores what it gained after those bytes if its
   * start, hashed again, is still them.
   */
  private emit(record: FileRecord, grewWhileRead = false): void {
    const { warnings } = this.options;
    for (; this.warningsSeen < warnings.length; this.warningsSeen++)
      this.warned.add(warnings[this.warningsSeen]!.path);
    if (record.type !== 'file' || grewWhileRead || !this.warned.has(record.path)) {
      this.options.onRecord(record);
      return;
    }
    // A copy: the record may be the parent's, which the run still compares against.
    const { ctime: _ctime, ino: _ino, sha256: _sha256, ...rest } = record;
    this.options.onRecord(rest);
  }

  private keep(entry: SourceEntry): boolean {
    this.grew = undefined;
    const before = this.options.parent?.get(entry.path);
    const { commandSources } = this.options;
    if (commandSources.size > 0 && commandSources.has(entry.path.slice(0, entry.path.indexOf('/')))) {
      const record: FileRecord =
        entry.type === 'file'
          ? { path: entry.path, type: 'file', mode: 0, mtime: 0, size: 0 }
          : recordOf(entry);
      this.note(entry.path, record, before);
      if (entry.type === 'file') this.pending.push({ path: entry.path, record });
      else this.emit(record);
      return true;
    }
    if (entry.type !== 'file') {
      const record = recordOf(entry);
      const changed = this.note(entry.path, record, before);
      this.emit(record);
      return changed;
    }
    if (!this.options.parent) {
      // A full shard stores every file: its record comes from the packer's fstat (archived()), not an
      // lstat of its own, one system call per file fewer (30,452 on the bench dataset).
      this.pending.push({ path: entry.path, record: undefined });
      return true;
    }
    let info: Stats;
    try {
      info = lstatSync(entry.open ?? entry.absolute);
    } catch {
      // Gone or unreadable: the packer meets the same and reports it.
      this.pending.push({ path: entry.path, record: undefined });
      return true;
    }
    // Most files of a second run: exactly as in the parent's list, which then serves as this run's record.
    if (this.options.compare === 'metadata' && before?.type === 'file' && sameStat(before, info)) {
      this.present?.add(entry.path);
      this.emit(before);
      return false;
    }
    const record = fileRecord(entry.path, info);
    if (!info.isFile()) {
      // Replaced since it was listed: the packer decides what it is now.
      this.note(entry.path, record, undefined, true);
      if (before?.type === 'directory') this.replaced.add(entry.path);
      this.pending.push({ path: entry.path, record: undefined });
      return true;
    }
    // Content mode hashes every file; a record rebuilt from a shard (no ctime) is hashed when all else matches.
    if (before?.type === 'file' && (this.options.compare === 'content' || worthHashing(before, record))) {
      const sha256 = contentHash(entry.open ?? entry.absolute);
      if (sha256 !== undefined) record.sha256 = sha256;
    }
    const changed = this.note(entry.path, record, before);
    if (changed) {
      this.pending.push({ path: entry.path, record: undefined });
      this.grew = grewFrom(before, record);
    } else {
      if (before?.type === 'file') record.sha256 = before.sha256;
      this.emit(record);
    }
    return changed;
  }

  /** Notes the entry as listed and counts it; true when it is new or differs from the parent's. */
  private note(path: string, record: FileRecord, before: FileRecord | undefined, force = false): boolean {
    if (!this.options.parent) return true;
    this.present?.add(path);
    if (before?.type === 'directory' && record.type !== 'directory') this.replaced.add(path);
    if (before === undefined) {
      this.changes.created++;
      return true;
    }
    const changed = force || !sameEntry(before, record, this.options.compare);
    if (changed) this.changes.modified++;
    return changed;
  }
}

/** A file's record from its lstat (or the packer's fstat): what the next run compares against. */
function fileRecord(path: string, info: Stats): Extract<FileRecord, { type: 'file' }> {
  return {
    path,
    type: 'file',
    mode: info.mode & 0o7777,
    mtime: info.mtimeMs,
    ctime: info.ctimeMs,
    ino: info.ino,
    ...(info.nlink > 1 && { nlink: info.nlink }),
    size: info.size,
    uid: info.uid,
    gid: info.gid,
  };
}

function recordOf(entry: Exclude<SourceEntry, { type: 'file' }>): FileRecord {
  const common = { path: entry.path, mode: entry.mode, mtime: entry.mtimeMs, uid: entry.uid, gid: entry.gid };
  return entry.type === 'directory'
    ? { ...common, type: 'directory' }
    : { ...common, type: 'symlink', target: entry.target };
}

/**
 * Whether `now` can be restored from the parent's entry: same type, mode, owner
 * and mtime, and for a file the same size and number of names, and either the
 * same ctime and inode (metadata, and any file of several names) or the same
 * sha256 (content, and records rebuilt from a shard). A record with neither
 * never matches: when in doubt the file is stored.
 */
function sameEntry(before: FileRecord, now: FileRecord, compare: CompareMode): boolean {
  const rebuilt = isRebuilt(before);
  if (
    before.type !== now.type ||
    before.mode !== now.mode ||
    // Whole milliseconds, as shards record them: a list rebuilt from a shard has no finer times.
    Math.round(before.mtime) !== Math.round(now.mtime) ||
    before.uid !== now.uid ||
    before.gid !== now.gid
  )
    return false;
  if (now.type === 'directory') return true;
  if (now.type === 'symlink') return before.type === 'symlink' && before.target === now.target;
  if (before.type !== 'file' || before.size !== now.size) return false;
  // A file of several names, in every mode: a name added, removed or renamed changes the inode's link
  // count or ctime, and then every name goes into the shard, so its archive links them again. A record
  // rebuilt from a shard has neither: such a file is stored.
  if ((before.nlink ?? 1) !== (now.nlink ?? 1)) return false;
  if (
    (now.nlink ?? 1) > 1 &&
    (before.ctime === undefined || before.ctime !== now.ctime || before.ino !== now.ino)
  )
    return false;
  if (compare === 'content' || rebuilt) return before.sha256 !== undefined && before.sha256 === now.sha256;
  return before.ctime !== undefined && before.ctime === now.ctime && before.ino === now.ino;
}

/**
 * Whether a file's lstat is field for field what its record says, ctime and
 * inode included (so never for a rebuilt record): then it is unchanged by
 * every test of `sameEntry` in metadata mode, and the record is still exact.
 */
function sameStat(before: Extract<FileRecord, { type: 'file' }>, info: Stats): boolean {
  return (
    before.ctime === info.ctimeMs &&
    before.ino === info.ino &&
    before.mtime === info.mtimeMs &&
    before.size === info.size &&
    before.mode === (info.mode & 0o7777) &&
    (before.nlink ?? 1) === info.nlink &&
    before.uid === info.uid &&
    before.gid === info.gid &&
    info.isFile()
  );
}

/**
 * A file record rebuilt from a shard's inner manifest (the state folder had no
 * list): it has the content's sha256 and mtime in whole milliseconds, but no
 * ctime or inode to decide by.
 */
function isRebuilt(record: FileRecord): boolean {
  return record.type === 'file' && record.ctime === undefined && record.sha256 !== undefined;
}

/** Whether only the content can tell: a rebuilt record whose size, mtime, mode and owner match. */
function worthHashing(before: FileRecord, now: FileRecord): boolean {
  return (
    isRebuilt(before) &&
    before.type === 'file' &&
    now.type === 'file' &&
    before.size === now.size &&
    Math.round(before.mtime) === Math.round(now.mtime) &&
    before.mode === now.mode &&
    before.uid === now.uid &&
    before.gid === now.gid
  );
}

/**
 * The parent's size and sha256 of a file that is bigger now, when storing only
 * what it gained may do: it had at least APPEND_MIN_BYTES, and one name then and
 * now (appending to one name of several would change the others too, and the
 * restore writes into the file the earlier links made). A record rebuilt from a
 * shard does not say how many names the file had: such a file is stored whole.
 */
function grewFrom(
  before: FileRecord | undefined,
  now: FileRecord,
): { size: number; sha256: string } | undefined {
  if (before?.type !== 'file' || now.type !== 'file' || before.sha256 === undefined) return undefined;
  if (isRebuilt(before) || before.size < APPEND_MIN_BYTES || now.size <= before.size) return undefined;
  if ((before.nlink ?? 1) !== 1 || (now.nlink ?? 1) !== 1) return undefined;
  return { size: before.size, sha256: before.sha256 };
}

/** sha256 of a file's content, or undefined when it cannot be read (the packer reports why). */
function contentHash(path: string | Buffer): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const read = readSync(fd, buffer, 0, READ_CHUNK, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
    return hash.digest('hex');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
