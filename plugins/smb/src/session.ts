import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { type Readable, type Writable, Writable as WritableStream } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DestinationError } from '@matric-backup/plugin-api';
import { authFileFor } from './auth-file.js';
import { findExecutable, type SmbclientOptions, smbclientArgs, smbclientEnv } from './connection.js';
import type { ErrorContext } from './errors.js';
import { makeFifo, openFifoWriter } from './fifo.js';
import { failureOf } from './outcome.js';
import { type StatusLine, statusLines } from './output.js';

export interface BatchResult {
  /** What smbclient printed while running the batch. */
  output: string;
  statuses: StatusLine[];
  /** Set when smbclient exited before the batch was over. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** What `put <fifo>` reads. */
export interface DataSource {
  body: Readable;
  size: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

export interface TransferResult {
  result: BatchResult;
  /** Why feeding the data failed (source error, abort, wrong size, smbclient gone); the session is then dead. */
  failure?: unknown;
}

// smbclient prints this once connected, before it reads the first command.
const READY = 'Try "help" to get a list of possible commands.\n';
// Longest command line smbclient reads in one piece (its line buffer is BUFSIZ, 8 KiB with glibc).
const MAX_LINE_BYTES = 4000;
// How long a session whose upload broke off may take to report why before it is killed.
const REPORT_GRACE_MS = 5_000;

let sessions = 0;

/**
 * One long-lived smbclient logged on to the share, reading commands from its
 * stdin: an operation costs a few milliseconds instead of a process start, a
 * connection and a logon (about 0.1 s of CPU each).
 *
 * Each batch of commands is followed by an unknown command whose "command not
 * found" reply marks the end of the batch's output. smbclient reads stdin
 * with stdio and waits for input with poll(), which never sees lines already
 * sitting in stdio's buffer, so it runs under `stdbuf -i0` (unbuffered
 * input). File data goes through a FIFO, since stdin carries the commands.
 */
export class SmbSession {
  private buffer = '';
  private waiting?: { end: string; resolve: (result: BatchResult) => void };
  private exit?: BatchResult['exit'];
  private batches = 0;
  private readonly id = ++sessions;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, null, Readable>,
    folder: string,
    private readonly fifo: string,
  ) {
    child.stdin.on('error', () => {}); // a dead smbclient is reported by its exit
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffer += chunk;
      this.settle();
    });
    this.closed = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.resolve({ output: this.buffer, statuses: statusLines(this.buffer), exit: this.exit });
        this.buffer = '';
        rm(folder, { recursive: true, force: true }).finally(resolve);
      });
    });
  }

  /** Starts smbclient and waits until it is logged on; connection failures reject with their DestinationError. */
  static async open(options: SmbclientOptions, context: ErrorContext): Promise<SmbSession> {
    const [stdbuf, smbclient] = await Promise.all([
      findExecutable('stdbuf', 'stdbuf'),
      findExecutable(options.binary, 'smbclient'),
    ]);
    const folder = await mkdtemp(join(options.tmpDir, '.matric-smb-'));
    let session: SmbSession | undefined;
    try {
      if (/["\n;]/.test(folder)) {
        throw new DestinationError(
          'CONFIG',
          `temporary folder ${JSON.stringify(folder)} cannot be named in smbclient commands`,
          {
            retryable: false,
            hint: 'set TMPDIR to a folder without " or ; in its path',
          },
        );
      }
      const fifo = join(folder, 'data');
      await makeFifo(fifo);
      const authFile = await authFileFor(options.credentials, folder);
      try {
        const child = spawn(stdbuf, ['-i0', smbclient, ...smbclientArgs(options, authFile.path)], {
          env: smbclientEnv(),
          stdio: ['pipe', 'ignore', 'pipe'],
        });
        session = new SmbSession(child, folder, fifo);
        const ready = await session.until(READY);
        if (ready.exit) throw failureOf(ready, context)!;
      } finally {
        // smbclient read it before connecting; it need not outlive the logon.
        await authFile.release();
      }
      session.idle();
      return session;
    } catch (error) {
      session?.kill();
      await (session?.closed ?? rm(folder, { recursive: true, force: true }));
      throw error;
    }
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Runs commands, one per line; the result holds everything they printed. */
  run(lines: readonly string[]): Promise<BatchResult> {
    for (const line of lines) {
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
        throw new DestinationError(
          'INVALID_KEY',
          `path too long for smbclient (${Buffer.byteLength(line)} bytes in one command)`,
          {
            retryable: false,
          },
        );
      }
    }
    if (this.exit) return Promise.resolve({ output: '', statuses: [], exit: this.exit });
    this.busy();
    const marker = `matric-end-${this.id}-${++this.batches}`;
    const result = this.until(`${marker}: command not found\n`);
    this.child.stdin.write(`${lines.join('\n')}\n${marker}\n`);
    return result.finally(() => this.idle());
  }

  /**
   * Runs commands of which one reads the session's FIFO (use {@link fifoPath}),
   * streaming `source` into it. smbclient sees end-of-data only after the whole,
   * size-checked stream went in; when feeding fails it is killed first, so it
   * never acts on a short file.
   */
  async transfer(lines: readonly string[], source: DataSource): Promise<TransferResult> {
    let settled = false;
    const result = this.run(lines).finally(() => {
      settled = true;
    });
    let writer: Socket | undefined;
    try {
      writer = await openFifoWriter(this.fifo, () => settled);
      // smbclient never opened the data (e.g. the remote file could not be created): the output says why.
      if (!writer) {
        source.body.destroy();
        return { result: await result };
      }
      await feed(source, writer);
      writer.destroy();
      return { result: await result };
    } catch (failure) {
      const ours = !isPipeClosed(failure);
      // smbclient stopped reading on its own (disk full, connection lost): give it a moment to say why.
      if (!ours) await within(result, REPORT_GRACE_MS);
      // Killed before the writer closes, so a pending SIGKILL wins over the end-of-data it would see.
      this.kill();
      writer?.destroy();
      source.body.destroy();
      return { result: await result, failure };
    }
  }

  /** The FIFO that {@link transfer} feeds, as smbclient's local file name. */
  get fifoPath(): string {
    return this.fifo;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Logs off and ends smbclient. */
  async close(): Promise<void> {
    if (this.alive) {
      this.child.stdin.end('quit\n');
      const timer = setTimeout(() => this.kill(), 2_000);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }

  private until(end: string): Promise<BatchResult> {
    return new Promise((resolve) => {
      this.waiting = { end, resolve };
      this.settle();
    });
  }

  private settle(): void {
    const waiting = this.waiting;
    const at = waiting ? this.buffer.indexOf(waiting.end) : -1;
    if (!waiting || at < 0) return;
    const output = this.buffer.slice(0, at);
    this.buffer = this.buffer.slice(at + waiting.end.length);
    this.waiting = undefined;
    waiting.resolve({ output, statuses: statusLines(output) });
  }

  // An idle session must not keep the process alive; a busy one must.
  private idle(): void {
    this.child.unref();
    (this.child.stdin as Partial<Socket>).unref?.();
    (this.child.stderr as Partial<Socket>).unref?.();
  }

  private busy(): void {
    this.child.ref();
    (this.child.stdin as Partial<Socket>).ref?.();
    (this.child.stderr as Partial<Socket>).ref?.();
  }
}

/** Waits for `promise`, at most `ms` milliseconds. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Streams the source into the FIFO with backpressure, checking its size. */
async function feed({ body, size, signal, onProgress }: DataSource, writer: Socket): Promise<void> {
  let sent = 0;
  const sink = new WritableStream({
    write(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent > size) return callback(sizeMismatch(size, sent));
      // Waiting for each write to reach the pipe means nothing is still queued when the writer is closed.
      writer.write(chunk, (error) => {
        if (!error) onProgress?.(sent);
        callback(error);
      });
    },
    final(callback) {
      callback(sent === size ? null : sizeMismatch(size, sent));
    },
  });
  writer.on('error', (error) => sink.destroy(error));
  await pipeline(body, sink, { signal });
}

function sizeMismatch(size: number, sent: number): DestinationError {
  return new DestinationError(
    'INTEGRITY',
    `the stream did not have the announced ${size} bytes (${sent} read)`,
    {
      retryable: true,
    },
  );
}

function isPipeClosed(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED';
}
