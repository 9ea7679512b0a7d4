import { constants } from 'node:fs';
import { type FileHandle, open, statfs, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from './errno.js';

/**
 * Bytes gathered before they are written, in each of two buffers (one filling while the other is
 * written). Bench dataset, its 558 MB shard: written to three files while it was made, the run
 * took 1.08x the time of one file with 4 MiB, 1.16x with 1 MiB (more, smaller writes waiting on
 * the disk); to one file, 1, 2 and 4 MiB took the same time, and 1 MiB peaked 12 MB lower.
 */
const stageFor = (files: number) => (files > 1 ? 4 : 1) * 1024 * 1024;
/** O_DIRECT wants offsets, lengths and memory aligned to the device's block; 4 KiB covers 512-byte and 4K devices. */
const ALIGN = 4096;
/**
 * The local disk file systems (statfs magic numbers: ext2/3/4, XFS, btrfs, F2FS, bcachefs, ZFS).
 * Elsewhere O_DIRECT is refused (FUSE, tmpfs before Linux 6.6), gains nothing (tmpfs), or turns
 * every write into a round trip to a server (NFS, CIFS).
 */
const DISK_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0xf2f52010, 0xca451a4e, 0x2fc12fc1]);
/** What open() gives for O_DIRECT on a file system without it; the file is created all the same. */
const NO_DIRECT = ['EINVAL', 'ENOTSUP', 'EOPNOTSUPP'];

// Not described by the ES2023 lib or Node 20's types; only its memory is used, for the alignment.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
};

interface Target {
  path: string;
  handle: FileHandle;
  /** Its write under way, settled either way. */
  pending?: Promise<unknown>;
}

/**
 * Writes one stream of bytes into new files (0600, never an existing name) past the page cache
 * (O_DIRECT). Through the page cache, a 558 MB shard cost 0.1-1.9 s of system time on the 2-core
 * test machine, varying from minute to minute (the virtual machine handing the guest fresh pages
 * for it), and it still had to reach the disk before its fsync returned. Written this way, the
 * bench dataset's first backup to a local folder took 0.86x the time (system time of the whole
 * run 0.6 s against 1.5 s, six pairs), and three such files cost 1.08x one. The caller still
 * fsyncs each file where it keeps it.
 *
 * Every file after the first is a spare, given up (closed, cut and removed) when it cannot be
 * written, and, the last first, before the disk would fill: the space left must stay enough for
 * what is stored after the shard (see roomAfter). A failure of the first is the writer's
 * failure; the caller then removes the files.
 */
export class DirectFiles {
  private readonly stage: number;
  private readonly stages: [Buffer, Buffer];
  private turn = 0;
  private filled = 0;
  private written = 0;
  private writing: Promise<unknown> = Promise.resolve();
  /** The handling of failed writes, one after the other. */
  private recovering: Promise<unknown> = Promise.resolve();

  private constructor(
    private targets: Target[],
    memory: ArrayBuffer,
  ) {
    const whole = Buffer.from(memory);
    this.stage = whole.length / 2;
    this.stages = [whole.subarray(0, this.stage), whole.subarray(this.stage)];
  }

  /**
   * Creates the files; undefined (and no file) where the platform has no O_DIRECT, the first's
   * folder is on no local disk file system, or the process may not reserve aligned memory (a
   * tight `ulimit -v`).
   */
  static async create(paths: readonly string[]): Promise<DirectFiles | undefined> {
    if (constants.O_DIRECT === undefined || paths.length === 0) return undefined;
    const folder = await statfs(dirname(paths[0]!)).catch(() => undefined);
    if (!folder || !DISK_FILE_SYSTEMS.has(folder.type)) return undefined;
    const memory = alignedMemory(2 * stageFor(paths.length));
    if (!memory) return undefined;
    const targets: Target[] = [];
    for (const path of paths) {
      try {
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT;
        targets.push({ path, handle: await open(path, flags, 0o600) });
      } catch (error) {
        // O_EXCL: a name that was taken fails with EEXIST, so a refused O_DIRECT left a file of ours.
        if (isErrno(error, ...NO_DIRECT)) await unlink(path).catch(() => undefined);
        if (targets.length > 0) continue;
        if (isErrno(error, ...NO_DIRECT)) return undefined;
        throw error;
      }
    }
    return new DirectFiles(targets, memory);
  }

  /** The files being written: the first, and the spares not given up. */
  get paths(): string[] {
    return this.targets.map(({ path }) => path);
  }

  /**
   * Takes `bytes` (copied: the caller may reuse them once this resolves). A failed write of
   * the first file rejects a later call (or end()).
   */
  async write(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.length; ) {
      const stage = this.stages[this.turn % 2]!;
      const take = Math.min(this.stage - this.filled, bytes.length - offset);
      stage.set(bytes.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.stage) await this.flush();
    }
  }

  /** Writes what is left, cuts every file to the bytes written, and closes them. */
  async end(): Promise<void> {
    if (this.filled > 0) await this.flush();
    await this.writing;
    const [first, ...spares] = this.targets;
    for (const spare of spares) await finish(spare, this.written).catch(() => this.drop(spare));
    if (first) await finish(first, this.written);
  }

  /** Closes the files after a failure; they stay for the caller to remove. */
  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await Promise.all(this.targets.map(({ handle }) => handle.close().catch(() => undefined)));
  }

  /** Starts writing the filled stage to every file, once the other stage's writes are done. */
  private async flush(): Promise<void> {
    const stage = this.stages[this.turn % 2]!;
    // The last block is written whole (zeros after the end); end() cuts the files back.
    const length = Math.ceil(this.filled / ALIGN) * ALIGN;
    stage.fill(0, this.filled, length);
    await this.writing;
    await this.keepRoom(length);
    const at = this.written;
    this.writing = Promise.all(this.targets.map((target) => this.writeTo(target, stage, length, at)));
    // Seen by the next flush() or end(); until then nobody waits on it.
    this.writing.catch(() => undefined);
    this.written += this.filled;
    this.filled = 0;
    this.turn++;
  }

  /** Gives up spares, the last first, while the next `length` bytes to every file would leave too little room. */
  private async keepRoom(length: number): Promise<void> {
    while (this.targets.length > 1) {
      const free = await statfs(this.targets[0]!.path).catch(() => undefined);
      const needed = length * this.targets.length + roomAfter(this.written + length);
      if (!free || free.bavail * free.bsize >= needed) return;
      await this.drop(this.targets.at(-1)!);
    }
  }

  private writeTo(target: Target, stage: Buffer, length: number, at: number): Promise<void> {
    const write = writeWhole(target.handle, stage, length, at);
    target.pending = write.catch(() => undefined);
    return write.catch((error: unknown) => {
      // One failure at a time: the room one of them frees may be enough for the next.
      const turn = this.recovering.then(() => this.recover(target, error, stage, length, at));
      this.recovering = turn.catch(() => undefined);
      return turn;
    });
  }

  /**
   * After a failed write: on a full disk, spares are given up, the last first, until the write
   * fits; a spare that still cannot be written is given up; the first file's failure is thrown.
   */
  private async recover(target: Target, error: unknown, stage: Buffer, length: number, at: number) {
    let failure = error;
    while (this.targets.includes(target) && isErrno(failure, 'ENOSPC', 'EDQUOT')) {
      try {
        // Room freed for an earlier failure may be enough already.
        return await writeWhole(target.handle, stage, length, at);
      } catch (again) {
        failure = again;
      }
      if (this.targets.length === 1 || !isErrno(failure, 'ENOSPC', 'EDQUOT')) break;
      await this.drop(this.targets.at(-1)!);
    }
    if (!this.targets.includes(target)) return;
    if (target === this.targets[0]) throw failure;
    await this.drop(target);
  }

  private async drop(spare: Target): Promise<void> {
    this.targets = this.targets.filter((other) => other !== spare);
    await spare.pending;
    // Cut while still open: a closed file may give its blocks back a moment later, and the
    // others need them now.
    await spare.handle.truncate(0).catch(() => undefined);
    await spare.handle.close().catch(() => undefined);
    await unlink(spare.path).catch(() => undefined);
  }
}

/**
 * Free space a shard of `bytes` must leave on the disk beside its spool files: the destinations
 * still store its index object (~0.3 % of the archive on the bench dataset, more for many small
 * files) and its sidecar there, and the run its file list, so 1/64 of the shard and 8 MiB more.
 */
function roomAfter(bytes: number): number {
  return Math.ceil(bytes / 64) + 8 * 1024 * 1024;
}

async function writeWhole(handle: FileHandle, stage: Buffer, length: number, at: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesWritten } = await handle.write(stage, done, length - done, at + done);
    done += bytesWritten;
  }
}

async function finish(target: Target, size: number): Promise<void> {
  await target.handle.truncate(size);
  await target.handle.close();
}

/**
 * Page-aligned memory. Node's Buffers come from malloc, 16 bytes past a page boundary, which
 * O_DIRECT refuses (EINVAL); a WebAssembly memory is always allocated on page boundaries.
 */
function alignedMemory(bytes: number): ArrayBuffer | undefined {
  try {
    return new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) }).buffer;
  } catch {
    return undefined;
  }
}
