import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { type FileHandle, open, realpath, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SourceOrigin } from '../sources/types.js';
import { ensureStateDir } from '../state/files.js';
import { BufferedTextWriter } from '../util/buffered-text-writer.js';
import { onInterrupt } from '../util/interrupt.js';
import { ownerTag, removeLeftoversOfGone } from '../util/process-identity.js';

/**
 * What one path was at a shard's time, as a later run compares it: the stat
 * fields that change whenever a file's content or metadata does (size, mtime,
 * ctime, inode: as restic compares), and the content's sha256 once archived.
 */
export type FileRecord =
  | {
      path: string;
      type: 'file';
      mode: number;
      mtime: number;
      /** Absent for a file never compared by metadata (a command's output): it always counts as changed. */
      ctime?: number;
      ino?: number;
      /** Names of the inode: a change of how many there are is a change of each (they are stored together). */
      nlink?: number;
      size: number;
      uid?: number;
      gid?: number;
      sha256?: string;
    }
  | { path: string; type: 'directory'; mode: number; mtime: number; uid?: number; gid?: number }
  | {
      path: string;
      type: 'symlink';
      mode: number;
      mtime: number;
      target: string;
      uid?: number;
      gid?: number;
    };

/** Which shard a file list describes, and what it was made from. */
export interface FileListHeader {
  version: 1;
  /** Id of the shard whose time the list describes. */
  shard: string;
  /** backup.name and writer tag of the config that made it. */
  writer: string;
  tag: string;
  created_at: string;
  origins: SourceOrigin[];
}

/** Records by archive path, in archive order (a folder before its contents). */
export interface FileList {
  header: FileListHeader;
  records: Map<string, FileRecord>;
}

const FOLDER = 'file-lists';
/** Reading a list: a buffer this big, and no record longer (a record is a few hundred bytes). */
const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
/** After the list's name, a list being written: `.<pid>-<start time of that pid, or empty>-<random>.partial`. */
const PARTIAL = /^\.(\d+)-(\d*)-[0-9a-f]+\.partial$/;

/**
 * `<state_dir>/file-lists/<writer tag>-<hash of the config's real path>.jsonl`:
 * one per config, the header line, then one record a line. The writer tag
 * (name and source instance) alone is not enough: two configs with the same
 * stem and sources in different folders share it, but not their run lock, so
 * the list is keyed as the lock is (a config reached through a symlink shares
 * its target's list).
 */
export async function fileListPath(stateDir: string, configFile: string, tag: string): Promise<string> {
  // A config that does not exist (yet) keeps its given path: nothing else could reach it by another name.
  const config = await realpath(configFile).catch(() => configFile);
  return join(
    stateDir,
    FOLDER,
    `${tag}-${createHash('sha256').update(config).digest('hex').slice(0, 16)}.jsonl`,
  );
}

/** The list, or undefined when there is none; a damaged one is an error the caller reports. */
export async function readFileList(
  stateDir: string,
  configFile: string,
  tag: string,
): Promise<FileList | undefined> {
  const file = await fileListPath(stateDir, configFile, tag);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let header: FileListHeader | undefined;
  const records = new Map<string, FileRecord>();
  const parse = (line: string) => {
    if (header) {
      const record = JSON.parse(line) as FileRecord;
      records.set(record.path, record);
      return;
    }
    header = JSON.parse(line) as FileListHeader;
    if (header.version !== 1 || typeof header.shard !== 'string')
      throw new Error(`${file} has an unknown header`);
  };
  try {
    // A chunk at a time, whole lines only: the text of a list of many files is never held at once.
    let buffer = Buffer.allocUnsafe(READ_CHUNK);
    let kept = 0;
    for (;;) {
      if (kept === buffer.length) buffer = Buffer.concat([buffer], buffer.length * 2);
      const { bytesRead } = await handle.read(buffer, kept, buffer.length - kept);
      const filled = kept + bytesRead;
      // A list is written whole and renamed into place: a missing last newline means someone else wrote it.
      if (bytesRead === 0 && filled > 0) throw new Error(`${file} is cut short`);
      if (bytesRead === 0) break;
      const end = buffer.lastIndexOf(NEWLINE, filled - 1) + 1;
      if (end > 0) for (const line of buffer.toString('utf8', 0, end - 1).split('\n')) parse(line);
      buffer.copy(buffer, 0, end, filled);
      kept = filled - end;
    }
  } finally {
    await handle.close();
  }
  if (!header) throw new Error(`${file} is empty`);
  return { header, records };
}

/**
 * Writes a list record by record as the run makes them, so a tree of millions
 * of files does not hold millions of records until the run ends (~370 bytes a
 * file). Records go through one reused 64 KiB buffer, as the inner manifest's
 * entries do. The file has a name of its own next to the list's and is renamed
 * into place by commit() alone: a run that fails or is killed never
 * leaves a list a later run reads, and two writers never write one file. Its
 * name carries the writer's pid, so the next writer of the list removes what a
 * killed one left. A write that fails does not fail
 * the backup: commit() reports it.
 */
export class FileListWriter {
  private readonly out: BufferedTextWriter;
  /** An interrupted run (Ctrl-C, SIGTERM) exits without unwinding: the signal handler removes the file. */
  private readonly forget: () => void;
  private failure?: unknown;
  private open = true;

  private constructor(
    private readonly fd: number,
    private readonly partial: string,
    private readonly file: string,
  ) {
    this.out = new BufferedTextWriter(fd);
    this.forget = onInterrupt(() => this.discard());
  }

  /** Starts the list (0600, in a 0700 folder) with its header. */
  static async open(stateDir: string, configFile: string, header: FileListHeader): Promise<FileListWriter> {
    await ensureStateDir(join(stateDir, FOLDER));
    const file = await fileListPath(stateDir, configFile, header.tag);
    // A list is written for the whole run: one a killed run left is hundreds of MB for a large tree.
    removeLeftoversOfGone(dirname(file), PARTIAL, basename(file));
    const partial = `${file}.${ownerTag()}-${randomBytes(6).toString('hex')}.partial`;
    const writer = new FileListWriter(openSync(partial, 'wx', 0o600), partial, file);
    writer.add(header);
    return writer;
  }

  add(record: FileRecord | FileListHeader): void {
    if (this.failure !== undefined || !this.open) return;
    try {
      this.out.append(`${JSON.stringify(record)}\n`);
    } catch (error) {
      this.failure = error;
    }
  }

  /** Puts the list in place of the one before; throws when any write failed (then nothing is put in place). */
  async commit(): Promise<void> {
    try {
      if (this.failure !== undefined) throw this.failure;
      this.out.flush();
      fsyncSync(this.fd);
      this.close();
      await rename(this.partial, this.file);
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  /** Idempotent; a no-op once committed. */
  discard(): void {
    if (!this.open) return;
    this.close();
    rmSync(this.partial, { force: true });
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    this.forget();
    closeSync(this.fd);
  }
}

/** A whole list at once, as tests make one. */
export async function writeFileList(stateDir: string, configFile: string, list: FileList): Promise<void> {
  const writer = await FileListWriter.open(stateDir, configFile, list.header);
  for (const record of list.records.values()) writer.add(record);
  await writer.commit();
}
