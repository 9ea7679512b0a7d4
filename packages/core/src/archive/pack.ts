import { createHash, type Hash, hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { SourceProblems } from '../sources/problems.js';
import type { SourceEntry, SourceOrigin } from '../sources/types.js';
import { AccountNames } from '../util/account-names.js';
import type { ChunkPool } from './chunk-pool.js';
import { appendedName, INNER_MANIFEST_NAME, MANIFEST_VERSION } from './format.js';
import { InnerManifestWriter } from './inner-manifest.js';
import { readExactly } from './read-file.js';
import { type EntryHeader, encodeHeader, paxTime } from './tar-header.js';
import { TarOutput } from './tar-output.js';

/** The tar stream's chunk size (reads go straight into it): big chunks keep per-chunk overhead negligible. */
export const CHUNK = 1 << 20;
/** Never follow a link swapped in after the walk; never block on a FIFO swapped in. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const EMPTY_SHA256 = hash('sha256', '', 'hex');

/** What reading one file's contents into the archive came to. */
interface Copied {
  /** Of the bytes stored. */
  sha256: string;
  /** Of the whole file, when what was stored continued a prefix's hash (see `copy`). */
  whole?: string;
  /** Bytes the file had fewer than its header promised (stored as zeros). */
  shortBy: number;
  readError?: unknown;
}

export interface PackStats {
  /** File entries, hard links included. */
  files: number;
  /** File entries stored as hard links to an earlier one. */
  hardlinks: number;
  directories: number;
  symlinks: number;
  /** Sum of the archived files' sizes. */
  bytesIn: number;
}

export interface PackOptions {
  id: string;
  createdAt: Date;
  sources: string[];
  /** Where each source came from, recorded in the inner manifest. */
  origins?: SourceOrigin[];
  /** Scratch file for the inner manifest (0600), removed when packing ends. */
  manifestFile: string;
  /** Where file contents are read into; the consumer may give chunks back. */
  pool: ChunkPool;
  /** Files that vanish, cannot be read or change while read go here (and into the inner manifest). */
  problems: SourceProblems;
  /** Where owner names come from (default: this machine's /etc/passwd and /etc/group). */
  accounts?: AccountNames;
  /** Called often (every file and every MiB); the caller throttles. */
  onProgress?: (stats: Readonly<PackStats>) => void;
  /** An incremental shard: its chain, and the paths gone since its parent (asked once every entry is packed). */
  incremental?: { parent: string; base: string; deleted: () => readonly string[] };
  /**
   * Each file entry once archived, with the sha256 of what was stored and the fstat its header was
   * made from; `grewWhileRead` when it was read whole but got longer meanwhile (warned as changed).
   */
  onArchived?: (path: string, sha256: string, info: Stats, grewWhileRead?: boolean) => void;
  /** The finished inner manifest file, before it is removed (the shard's index object is made from it). */
  onManifest?: (file: string) => Promise<void>;
}

/**
 * The tar stream of a shard: every entry with mode and mtime (sub-second mtimes
 * in a pax header), symlinks as links, file contents read into the stream's
 * chunks while hashed, and the inner manifest (every entry, each file's sha256)
 * as the last entry. `done` settles once the last byte is handed to the stream;
 * a source error rejects it and destroys the stream.
 */
export function packArchive(
  entries: AsyncIterable<SourceEntry>,
  options: PackOptions,
): { tar: Readable; done: Promise<PackStats> } {
  const tar = new TarOutput(options.pool);
  const packer = new Packer(tar, options);
  const done = packer.run(entries).catch((error: unknown) => {
    tar.destroy(error as Error);
    throw error;
  });
  return { tar, done };
}

class Packer {
  private readonly stats: PackStats = { files: 0, hardlinks: 0, directories: 0, symlinks: 0, bytesIn: 0 };
  private manifest?: InnerManifestWriter;
  private readonly accounts: AccountNames;
  /** Files with more than one link seen so far, by `source:dev:ino`: later names become hard-link entries. */
  private readonly linked = new Map<string, { path: string; size: number; sha256: string }>();
  private lastOwner?: Readonly<Owner>;
  /** Where the start of a file that grew is read to be hashed (it is not stored); made when first needed. */
  private scratch?: Buffer;

  constructor(
    private readonly tar: TarOutput,
    private readonly options: PackOptions,
  ) {
    this.accounts = options.accounts ?? new AccountNames();
  }

  async run(entries: AsyncIterable<SourceEntry>): Promise<PackStats> {
    const { id, createdAt, sources, origins, manifestFile, incremental } = this.options;
    try {
      this.manifest = new InnerManifestWriter(manifestFile, {
        version: MANIFEST_VERSION,
        format: 'matric-backup',
        id,
        created_at: createdAt.toISOString(),
        type: incremental ? 'incremental' : 'full',
        ...(incremental && { parent: incremental.parent, base: incremental.base }),
        sources,
        ...(origins && { origins }),
      });
      for await (const entry of entries) {
        if (entry.type === 'file') await this.addFile(entry);
        else this.add(entry);
        const drained = this.tar.drained();
        if (drained) await drained;
      }
      this.manifest.finish(this.options.problems.list, incremental?.deleted());
      await this.addManifest();
      await this.options.onManifest?.(manifestFile);
      this.tar.finish();
      return { ...this.stats };
    } finally {
      this.manifest?.close();
      await rm(manifestFile, { force: true });
    }
  }

  private add(entry: Exclude<SourceEntry, { type: 'file' }>): void {
    const manifest = this.manifest!;
    const owner = this.owner(entry);
    if (entry.type === 'directory') {
      this.tar.write(encodeHeader(header(entry.path, 'directory', entry.mode, entry.mtimeMs, owner)));
      manifest.add({
        path: entry.path,
        type: 'directory',
        mode: entry.mode,
        mtime: Math.round(entry.mtimeMs),
        ...owner,
      });
      this.stats.directories++;
    } else {
      this.tar.write(
        encodeHeader(header(entry.path, 'symlink', entry.mode, entry.mtimeMs, owner, 0, entry.target)),
      );
      manifest.add({
        path: entry.path,
        type: 'symlink',
        mode: entry.mode,
        mtime: Math.round(entry.mtimeMs),
        target: entry.target,
        ...owner,
      });
      this.stats.symlinks++;
    }
    this.options.onProgress?.(this.stats);
  }

  private async addFile(entry: Extract<SourceEntry, { type: 'file' }>): Promise<void> {
    // Per source: each source can be restored on its own (`--in-place`, on another file system).
    const source = entry.path.slice(0, entry.path.indexOf('/'));
    const where = () => ({ source, path: entry.path, absolute: entry.absolute });
    const { problems } = this.options;
    let fd: number;
    try {
      fd = entry.fd ?? openSync(entry.open ?? entry.absolute, OPEN_FLAGS);
    } catch (error) {
      problems.report(where(), error);
      return;
    }
    try {
      let info = fstatSync(fd);
      if (!info.isFile()) {
        problems.changed(where(), 'replaced by something that is not a file while the backup ran');
        return;
      }
      const inode = info.nlink > 1 ? `${source}:${info.dev}:${info.ino}` : undefined;
      const first = inode === undefined ? undefined : this.linked.get(inode);
      if (first) return this.addHardLink(entry.path, first, info);
      // Decided before the header, which says how many bytes follow: the whole file, or what it gained.
      const grew = entry.grewFrom;
      let prefix = grew && info.nlink === 1 && info.size > grew.size ? this.prefixHash(fd, grew) : undefined;
      if (prefix) {
        // Hashing the old bytes takes a while, in which a log being written keeps growing: the header,
        // the bytes stored and the changed-while-read check follow an fstat taken after it, so what it
        // gained meanwhile is stored too, not taken for a change. Anything but growth since the first
        // fstat (same size with a new mtime, fewer bytes, another name) stores it whole, as read from
        // the first fstat's size, and the check against that one reports it.
        const now = fstatSync(fd);
        if (now.isFile() && now.nlink === 1 && now.size > info.size) info = now;
        else if (!(now.size === info.size && now.mtimeMs === info.mtimeMs && now.nlink === 1))
          prefix = undefined;
      }
      const mode = info.mode & 0o7777;
      const owner = this.owner(info);
      const from = prefix ? grew!.size : 0;
      const name = prefix ? appendedName(entry.path) : entry.path;
      this.tar.write(encodeHeader(header(name, 'file', mode, info.mtimeMs, owner, info.size - from)));
      // Once the header is out its size is a promise: a file that shrinks or fails to read is
      // padded with zeros, so the tar stays valid and the manifest hashes exactly what is stored.
      const copied = await this.copy(fd, info.size - from, true, prefix && { position: from, hash: prefix });
      const { shortBy, readError } = copied;
      const sha256 = copied.whole ?? copied.sha256;
      let grewWhileRead = false;
      if (readError !== undefined) problems.report(where(), readError);
      else grewWhileRead = this.checkUnchanged(where, fd, info, shortBy);
      if (inode !== undefined) this.linked.set(inode, { path: entry.path, size: info.size, sha256 });
      this.options.onArchived?.(entry.path, sha256, info, grewWhileRead);
      this.manifest!.add({
        path: entry.path,
        type: 'file',
        mode,
        mtime: Math.round(info.mtimeMs),
        size: info.size,
        sha256,
        ...(prefix && { append: { from, from_sha256: grew!.sha256, sha256: copied.sha256 } }),
        ...owner,
      });
      this.stats.files++;
      this.options.onProgress?.(this.stats);
    } finally {
      if (entry.fd === undefined) closeSync(fd);
    }
  }

  /**
   * Another name of a file already archived: a tar hard-link entry naming the
   * first one's archive path (GNU tar extracts it as a link too), no content.
   * The manifest lists it as a file with the first one's size and sha256.
   */
  private addHardLink(
    path: string,
    first: { path: string; size: number; sha256: string },
    info: Stats,
  ): void {
    const mode = info.mode & 0o7777;
    const owner = this.owner(info);
    this.tar.write(encodeHeader(header(path, 'link', mode, info.mtimeMs, owner, 0, first.path)));
    this.manifest!.add({
      path,
      type: 'file',
      mode,
      mtime: Math.round(info.mtimeMs),
      size: first.size,
      sha256: first.sha256,
      hardlink: first.path,
      ...owner,
    });
    this.options.onArchived?.(path, first.sha256, info);
    this.stats.files++;
    this.stats.hardlinks++;
    this.options.onProgress?.(this.stats);
  }

  /**
   * A hash of the first `grew.size` bytes of a file that grew, to be continued
   * over the rest, when they are the parent shard's (`grew.sha256`); undefined
   * when they differ or cannot all be read (then the file is stored whole, read
   * again, mostly from the page cache).
   */
  private prefixHash(fd: number, grew: { size: number; sha256: string }): Hash | undefined {
    const hash = createHash('sha256');
    this.scratch ??= Buffer.allocUnsafe(CHUNK);
    for (let position = 0; position < grew.size; ) {
      const view = this.scratch.subarray(0, Math.min(CHUNK, grew.size - position));
      try {
        if (readExactly(fd, view, position) < view.length) return undefined;
      } catch {
        return undefined;
      }
      hash.update(view);
      position += view.length;
    }
    return hash.copy().digest('hex') === grew.sha256 ? hash : undefined;
  }

  /**
   * A file written to while it is read is archived as read, with a warning (as GNU tar does). True
   * when it was read whole and is longer now: then the bytes stored are the first `before.size` of it.
   */
  private checkUnchanged(
    where: () => { source: string; path: string; absolute: string },
    fd: number,
    before: Stats,
    shortBy: number,
  ): boolean {
    const { problems } = this.options;
    if (shortBy > 0) {
      problems.changed(where(), `shrank by ${shortBy} bytes while read; the missing end is stored as zeros`);
      return false;
    }
    const after = fstatSync(fd);
    if (after.size === before.size && after.mtimeMs === before.mtimeMs) return false;
    problems.changed(where(), 'changed while read; the stored copy may be inconsistent');
    return after.size > before.size;
  }

  /**
   * The owner fields of an entry (tar header and inner manifest); omitted when
   * unknown. The last one is reused (never changed by its users): most entries
   * of a tree have one owner, and a new object per entry was garbage.
   */
  private owner(from: Pick<Owner, 'uid' | 'gid'>): Readonly<Owner> {
    if (from.uid === undefined || from.gid === undefined) return {};
    const last = this.lastOwner;
    if (last?.uid === from.uid && last.gid === from.gid) return last;
    const user = this.accounts.userName(from.uid);
    const group = this.accounts.groupName(from.gid);
    this.lastOwner = {
      uid: from.uid,
      gid: from.gid,
      ...(user !== undefined && { user }),
      ...(group !== undefined && { group }),
    };
    return this.lastOwner;
  }

  private async addManifest(): Promise<void> {
    const { manifestFile, createdAt } = this.options;
    const fd = openSync(manifestFile, constants.O_RDONLY);
    try {
      const { size } = fstatSync(fd);
      this.tar.write(encodeHeader(header(INNER_MANIFEST_NAME, 'file', 0o600, createdAt.getTime(), {}, size)));
      const { readError } = await this.copy(fd, size, false);
      if (readError !== undefined) throw readError;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads `size` bytes of `fd` into the tar stream, padded to a whole block:
   * straight into its chunks, hashing each piece. Whatever the file no longer
   * has (it shrank, a read failed) is stored as zeros, so the entry keeps the
   * size its header gave and the hash is of what is stored. With `after`, the
   * bytes from `after.position` on, each also added to `after.hash` (the
   * file's start), whose digest is `whole`.
   */
  private async copy(
    fd: number,
    size: number,
    counted: boolean,
    after?: { position: number; hash: Hash },
  ): Promise<Copied> {
    const start = after?.position ?? 0;
    let shortBy = 0;
    let readError: unknown;
    let single: string | undefined;
    let pieces: Hash | undefined;
    for (let position = 0; position < size; ) {
      const space = this.tar.space();
      const view = space.length > size - position ? space.subarray(0, size - position) : space;
      let bytesRead = 0;
      if (readError === undefined) {
        try {
          bytesRead = readExactly(fd, view, start + position);
        } catch (error) {
          readError = error;
        }
      }
      if (bytesRead < view.length) view.fill(0, bytesRead);
      shortBy += view.length - bytesRead;
      // A file read in one piece (most are) is hashed in one call, without a Hash object.
      if (position === 0 && view.length === size) single = hash('sha256', view, 'hex');
      else {
        pieces ??= createHash('sha256');
        pieces.update(view);
      }
      after?.hash.update(view);
      position += view.length;
      if (counted) this.stats.bytesIn += view.length;
      this.tar.advance(view.length);
      if (position < size) {
        if (counted) this.options.onProgress?.(this.stats);
        await this.tar.drained();
      }
    }
    this.tar.pad(size);
    return {
      sha256: single ?? pieces?.digest('hex') ?? EMPTY_SHA256,
      ...(after && { whole: after.hash.digest('hex') }),
      shortBy,
      readError,
    };
  }
}

interface Owner {
  uid?: number;
  gid?: number;
  /** Names of uid and gid on the machine that made the shard, when it has them. */
  user?: string;
  group?: string;
}

function header(
  name: string,
  type: 'file' | 'link' | 'directory' | 'symlink',
  mode: number,
  mtimeMs: number,
  owner: Owner,
  size = 0,
  linkname?: string,
): EntryHeader {
  const tarHeader: EntryHeader = {
    name,
    type,
    mode,
    uid: owner.uid ?? 0,
    gid: owner.gid ?? 0,
    size,
    mtime: new Date(Math.round(mtimeMs)),
    linkname,
    uname: owner.user,
    gname: owner.group,
  };
  // ustar keeps whole seconds; a pax record keeps the milliseconds the inner manifest has.
  // Rounded, not truncated: a time set through utimes() reads back a hair below the millisecond.
  if (Math.round(mtimeMs) % 1000 !== 0) tarHeader.pax = { mtime: paxTime(Math.round(mtimeMs)) };
  return tarHeader;
}
