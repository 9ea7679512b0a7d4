import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RefusedEntry } from '../shard/entry-guard.js';
import { onInterrupt } from '../util/interrupt.js';

const THREAD = new URL('./write-thread.mjs', import.meta.url);
/**
 * Writer threads at most. Creating a file costs kernel time in the thread that
 * creates it, and on a busy file system much more than writing its bytes (ext4
 * without a journal looks at every recently freed inode of the group before
 * it takes one: after 30,000 files were deleted, ~0.5 ms a file). Threads in
 * different folders create in parallel; each costs ~10 MB of memory.
 */
const MAX_THREADS = 4;
/**
 * An archive of fewer entries gets one writer thread. Into tmpfs a second thread cost a copy of
 * `/usr/share/doc` (5,600 entries) 1.07-1.22x the wall time and ~12 MB, and on a disk right after a
 * deletion it was not faster there; the bench dataset (31,000 entries) gains from it on such a disk.
 */
const ONE_THREAD_ENTRIES = 10_000;
/** File data is copied into batches of this size, each one message to a thread. */
const BATCH_BYTES = 1 << 20;
/** Operations per batch at most: thousands of tiny files still go in small messages. */
const BATCH_OPS = 512;
/**
 * Batches handed to a thread and not yet written; the extraction waits beyond
 * this. Two per thread keep each one busy; four cost ~12 MB more peak memory
 * with two threads and were not faster.
 */
const IN_FLIGHT = 2;
/**
 * A new folder goes to another thread only once the batch in hand holds this
 * many operations (or half its bytes): folders are dealt out about a batch at
 * a time, so trees of many small folders still go in large batches (a
 * message per folder cost ~25 % more CPU for `/usr/share/doc` into tmpfs).
 */
const DEAL_OPS = BATCH_OPS / 2;
/** Index into the control array shared with the threads; thread i's BUSY flag is at BUSY + i. */
const STOP = 0;
const BUSY = 1;
/** How long an interrupted process waits for a thread to finish the operation in hand. */
const HALT_WAIT_MS = 2000;

type Op =
  | { op: 'dir'; path: string }
  | { op: 'symlink'; path: string; target: string }
  | { op: 'link'; path: string; target: string }
  | { op: 'open'; path: string; mode: number; mtimeMs: number; uid?: number; gid?: number }
  | { op: 'append'; path: string; mode: number; mtimeMs: number; uid?: number; gid?: number }
  | { op: 'data'; start: number; end: number }
  | { op: 'close' };

interface ThreadError {
  refused: boolean;
  message: string;
  code?: string;
  syscall?: string;
  path?: string;
  errno?: number;
}

/** A file on disk: its size and sha256 as written, and the mode, mtime (and owner) it was given. */
export interface WrittenFile {
  path: string;
  size: number;
  sha256: string;
  mode: number;
  mtimeMs: number;
  uid?: number;
  gid?: number;
  /** Appended to (see `append`): the bytes the file had before; size and sha256 are the whole file's. */
  appendedTo?: number;
}

/** Where the files an incremental's appended bytes go to are: the tree the earlier links of its chain made. */
export interface AppendTree {
  root: string;
  /** Per source name, as `sourceRoots` (`restore --in-place`). */
  sourceRoots?: Record<string, string>;
}

type FromThread =
  | { type: 'done'; files: WrittenFile[]; data: ArrayBuffer }
  | { type: 'failed'; error: ThreadError };

/** Writer threads for an archive of `entries` entries (undefined: not known): one per core, one for a small archive. */
export function writerThreads(entries: number | undefined): number {
  if (entries !== undefined && entries < ONE_THREAD_ENTRIES) return 1;
  return Math.min(availableParallelism(), MAX_THREADS);
}

/** One writer thread, started when it is first given work. */
interface Lane {
  worker?: Worker;
  inFlight: number;
}

/**
 * Creates the restored folders, symlinks and files on worker threads, while
 * the main thread goes on decompressing, untarring and checking: the threads
 * make every file system call and hash each file as they write it.
 *
 * The work is split by folder: a file goes to the thread of the folder it is
 * in (a new folder goes to the least busy thread once the batch in hand is
 * half full, else it stays with the thread in hand), a folder to its
 * parent's thread, a hard link to its target's thread (so it
 * comes after that file), bytes appended to a file to that file's folder's
 * thread. So every path's operations stay in archive order on one thread, and
 * two threads never create in one folder (the kernel locks a folder while a
 * name is added to it). A thread makes the folders above what it creates when
 * it has not seen them yet (another may be making them at the same time).
 * Symbolic links come last, once every thread has written everything else.
 *
 * Calls queue operations into one batch (file data copied into the batch's
 * buffer), sent to its thread when full or when the next operation goes to
 * another thread; `room()` waits while IN_FLIGHT batches of the thread being
 * given work are unwritten, so memory stays at a few MiB per thread. The first
 * failure of any thread (a refused entry, EEXIST for an entry given twice,
 * ENOSPC) is thrown by the next `room()` or by `finish()`. `stop()` ends every
 * thread, so nothing writes into the folder once it returns. Each file is
 * reported to `onWritten` once it is closed.
 */
export class FileWriter {
  private readonly lanes: Lane[];
  /** The thread each folder's entries go to. */
  private readonly laneOf = new Map<string, number>();
  /** The thread the batch being filled goes to. */
  private lane = 0;
  private ops: Op[] = [];
  private data: Buffer;
  private filled = 0;
  private readonly spare: ArrayBuffer[] = [];
  /** Created once everything else is written (see `finish`). */
  private symlinks: Op[] = [];
  private failure?: Error;
  private wake?: () => void;
  private stopping = false;
  private readonly flags: Int32Array;
  private readonly forgetHalt: () => void;
  private readonly workerData: Record<string, unknown>;
  private readonly dealOps: number;

  constructor(
    root: string,
    private readonly onWritten: (file: WrittenFile) => void,
    /** Per source name, the folder its entries go to instead of `root/<name>` (`restore --in-place`). */
    sourceRoots?: Record<string, string>,
    tree?: AppendTree,
    /** How many threads (see writerThreads); tests: from how many operations in hand a new folder goes to another one. */
    { threads = writerThreads(undefined), dealOps = DEAL_OPS } = {},
  ) {
    this.lanes = Array.from({ length: Math.max(1, threads) }, () => ({ inFlight: 0 }));
    this.dealOps = dealOps;
    this.flags = new Int32Array(new SharedArrayBuffer(4 * (BUSY + this.lanes.length)));
    this.workerData = { root, sourceRoots, tree, control: this.flags.buffer };
    this.forgetHalt = onInterrupt(() => this.halt());
    this.data = Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  folder(path: string): void {
    this.to(parentOf(path));
    this.queue({ op: 'dir', path });
  }

  /** Made by `finish`, after every file and folder. */
  symlink(path: string, target: string): void {
    this.symlinks.push({ op: 'symlink', path, target });
  }

  /** A hard link at `path` to the file written earlier at archive path `target`. */
  link(path: string, target: string): void {
    this.to(parentOf(target));
    this.queue({ op: 'link', path, target });
  }

  /**
   * Starts a file, to be given `mode`, `mtimeMs` and `owner` (first: changing
   * the owner clears setuid/setgid) once written; `write` its content, then `close` it.
   */
  open(path: string, mode: number, mtimeMs: number, owner?: { uid: number; gid: number }): void {
    this.to(parentOf(path));
    this.queue({ op: 'open', path, mode, mtimeMs, ...owner });
  }

  /**
   * Starts appending to the file at `path` of the `tree` (made by earlier links
   * of a chain): `write` the bytes it gained, then `close` it, which gives it
   * `mode`, `mtimeMs` and `owner` as `open` does.
   */
  append(path: string, mode: number, mtimeMs: number, owner?: { uid: number; gid: number }): void {
    this.to(parentOf(path));
    this.queue({ op: 'append', path, mode, mtimeMs, ...owner });
  }

  write(chunk: Buffer): void {
    if (this.failure) return;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.filled === this.data.length) this.flush();
      const start = this.filled;
      const length = Math.min(chunk.length - offset, this.data.length - start);
      chunk.copy(this.data, start, offset, offset + length);
      this.filled += length;
      offset += length;
      // The file's bytes so far in this batch are one span: one operation, one write.
      const last = this.ops[this.ops.length - 1];
      if (last?.op === 'data' && last.end === start) last.end += length;
      // Last: queueing may send this batch off and start the next buffer.
      else this.queue({ op: 'data', start, end: start + length });
    }
  }

  /** Ends the file, giving it what `open` was told. */
  close(): void {
    this.queue({ op: 'close' });
  }

  /** Resolves once the thread being given work has room for more; rejects with the first failure. */
  async room(): Promise<void> {
    while (this.lanes[this.lane]!.inFlight >= IN_FLIGHT && !this.failure)
      await new Promise<void>((wake) => (this.wake = wake));
    if (this.failure) throw this.failure;
  }

  /** Waits until everything is written, symbolic links last, then stops the threads. */
  async finish(): Promise<void> {
    await this.drain();
    if (this.symlinks.length > 0 && !this.failure) {
      // Only now: no thread creates anything after a link exists.
      this.lane = 0;
      for (const op of this.symlinks) this.queue(op);
      this.symlinks = [];
      await this.drain();
    }
    await this.stop();
    if (this.failure) throw this.failure;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.forgetHalt();
    await Promise.all(this.lanes.map((lane) => lane.worker?.terminate()));
  }

  private async drain(): Promise<void> {
    this.flush();
    while (this.lanes.some((lane) => lane.inFlight > 0) && !this.failure)
      await new Promise<void>((wake) => (this.wake = wake));
  }

  /**
   * For an exiting process, which cannot wait for `stop()`: tells the threads to
   * drop what they have not started and waits (blocking, briefly) until the
   * operations in hand are done, so whoever removes the folder next does not race them.
   */
  private halt(): void {
    Atomics.store(this.flags, STOP, 1);
    for (let index = 0; index < this.lanes.length; index++)
      Atomics.wait(this.flags, BUSY + index, 1, HALT_WAIT_MS);
  }

  /** Makes the entries of `folder` the next operations' thread, sending the batch so far to its own. */
  private to(folder: string): void {
    let lane = this.laneOf.get(folder);
    if (lane === undefined) {
      lane = this.pick();
      this.laneOf.set(folder, lane);
    }
    if (lane === this.lane) return;
    this.flush();
    this.lane = lane;
  }

  /** The thread for a new folder: the one in hand while its batch is less than half full, else the least busy (the one in hand last on a tie). */
  private pick(): number {
    if (this.ops.length < this.dealOps && this.filled < BATCH_BYTES / 2) return this.lane;
    let best = -1;
    for (let step = 1; step <= this.lanes.length; step++) {
      const index = (this.lane + step) % this.lanes.length;
      if (best < 0 || this.lanes[index]!.inFlight < this.lanes[best]!.inFlight) best = index;
    }
    return best;
  }

  private queue(op: Op): void {
    this.ops.push(op);
    if (this.ops.length >= BATCH_OPS) this.flush();
  }

  private flush(): void {
    if (this.ops.length === 0 || this.failure) return;
    const lane = this.lanes[this.lane]!;
    const data = this.data.buffer as ArrayBuffer;
    lane.worker ??= this.start(this.lane);
    lane.worker.postMessage({ ops: this.ops, data }, [data]);
    lane.inFlight++;
    this.ops = [];
    const spare = this.spare.pop();
    this.data = spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.filled = 0;
  }

  private start(index: number): Worker {
    const worker = new Worker(THREAD, { workerData: { ...this.workerData, busy: BUSY + index } });
    worker.on('message', (message: FromThread) => this.receive(this.lanes[index]!, message));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (!this.stopping)
        this.fail(new Error(`the restore's file writing thread stopped (exit code ${code})`));
    });
    return worker;
  }

  private receive(lane: Lane, message: FromThread): void {
    if (message.type === 'failed') {
      this.fail(threadError(message.error));
      return;
    }
    for (const file of message.files) this.onWritten(file);
    this.spare.push(message.data);
    lane.inFlight--;
    this.wake?.();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }
}

/** The folder an archive path is in; '' for a top-level entry. */
function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function threadError(error: ThreadError): Error {
  if (error.refused) return new RefusedEntry(error.message);
  return Object.assign(new Error(error.message), {
    code: error.code,
    syscall: error.syscall,
    path: error.path,
    errno: error.errno,
  });
}
