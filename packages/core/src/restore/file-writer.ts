import { Worker } from 'node:worker_threads';
import { RefusedEntry } from '../shard/entry-guard.js';
import { onInterrupt } from '../util/interrupt.js';

const THREAD = new URL('./write-thread.mjs', import.meta.url);
/** File data is copied into batches of this size, each one message to the thread. */
const BATCH_BYTES = 1 << 20;
/** Operations per batch at most: thousands of tiny files still go in small messages. */
const BATCH_OPS = 512;
/** Batches handed to the thread and not yet written; the extraction waits beyond this. */
const IN_FLIGHT = 4;
/** Indexes into the control array shared with the thread. */
const STOP = 0;
const BUSY = 1;
/** How long an interrupted process waits for the thread to finish the operation in hand. */
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

/**
 * Creates the restored folders, symlinks and files on a worker thread, in
 * archive order, while the main thread goes on decompressing, untarring and
 * checking: the thread makes every file system call and hashes each file as it
 * writes it. Restore used to do all of it on one thread; on two cores the
 * kernel's share (creating ~30,000 files) now overlaps with the rest.
 *
 * Calls queue operations into batches (file data copied into the batch's
 * buffer); `room()` waits while IN_FLIGHT batches are unwritten, so memory stays
 * at a few MiB. The first failure (a refused entry, EEXIST for an entry given
 * twice, ENOSPC) stops the thread and is thrown by the next `room()` or by
 * `finish()`. `stop()` ends the thread, so nothing writes into the folder once
 * it returns. Each file is reported to `onWritten` once it is closed.
 */
export class FileWriter {
  private readonly worker: Worker;
  private ops: Op[] = [];
  private data: Buffer;
  private filled = 0;
  private readonly spare: ArrayBuffer[] = [];
  private inFlight = 0;
  private failure?: Error;
  private wake?: () => void;
  private stopping = false;
  private readonly flags = new Int32Array(new SharedArrayBuffer(8));
  private readonly forgetHalt: () => void;

  constructor(
    root: string,
    private readonly onWritten: (file: WrittenFile) => void,
    /** Per source name, the folder its entries go to instead of `root/<name>` (`restore --in-place`). */
    sourceRoots?: Record<string, string>,
    tree?: AppendTree,
  ) {
    this.worker = new Worker(THREAD, {
      workerData: { root, sourceRoots, tree, control: this.flags.buffer },
    });
    this.forgetHalt = onInterrupt(() => this.halt());
    this.worker.on('message', (message: FromThread) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.stopping)
        this.fail(new Error(`the restore's file writing thread stopped (exit code ${code})`));
    });
    this.data = Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  folder(path: string): void {
    this.queue({ op: 'dir', path });
  }

  symlink(path: string, target: string): void {
    this.queue({ op: 'symlink', path, target });
  }

  /** A hard link at `path` to the file written earlier at archive path `target`. */
  link(path: string, target: string): void {
    this.queue({ op: 'link', path, target });
  }

  /**
   * Starts a file, to be given `mode`, `mtimeMs` and `owner` (first: changing
   * the owner clears setuid/setgid) once written; `write` its content, then `close` it.
   */
  open(path: string, mode: number, mtimeMs: number, owner?: { uid: number; gid: number }): void {
    this.queue({ op: 'open', path, mode, mtimeMs, ...owner });
  }

  /**
   * Starts appending to the file at `path` of the `tree` (made by earlier links
   * of a chain): `write` the bytes it gained, then `close` it, which gives it
   * `mode`, `mtimeMs` and `owner` as `open` does.
   */
  append(path: string, mode: number, mtimeMs: number, owner?: { uid: number; gid: number }): void {
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

  /** Resolves once the thread has room for more; rejects with its failure. */
  async room(): Promise<void> {
    while (this.inFlight >= IN_FLIGHT && !this.failure) await new Promise<void>((wake) => (this.wake = wake));
    if (this.failure) throw this.failure;
  }

  /** Waits until everything is written, then stops the thread. */
  async finish(): Promise<void> {
    this.flush();
    while (this.inFlight > 0 && !this.failure) await new Promise<void>((wake) => (this.wake = wake));
    await this.stop();
    if (this.failure) throw this.failure;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.forgetHalt();
    await this.worker.terminate();
  }

  /**
   * For an exiting process, which cannot wait for `stop()`: tells the thread to
   * drop what it has not started and waits (blocking, briefly) until the
   * operation in hand is done, so whoever removes the folder next does not race it.
   */
  private halt(): void {
    Atomics.store(this.flags, STOP, 1);
    Atomics.wait(this.flags, BUSY, 1, HALT_WAIT_MS);
  }

  private queue(op: Op): void {
    this.ops.push(op);
    if (this.ops.length >= BATCH_OPS) this.flush();
  }

  private flush(): void {
    if (this.ops.length === 0 || this.failure) return;
    const data = this.data.buffer as ArrayBuffer;
    this.worker.postMessage({ ops: this.ops, data }, [data]);
    this.inFlight++;
    this.ops = [];
    const spare = this.spare.pop();
    this.data = spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.filled = 0;
  }

  private receive(message: FromThread): void {
    if (message.type === 'failed') {
      this.fail(threadError(message.error));
      return;
    }
    for (const file of message.files) this.onWritten(file);
    this.spare.push(message.data);
    this.inFlight--;
    this.wake?.();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }
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
