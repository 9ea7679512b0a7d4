import { closeSync, openSync, unlinkSync, write } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { MatricError } from '@matric-backup/plugin-api';
import type { CommandSourceConfig } from '../config/schema.js';
import { parseDuration } from '../util/duration.js';
import { spawnGroup } from '../util/process-group.js';

/** After a timeout's SIGTERM, how long the command gets to exit before SIGKILL. */
const KILL_GRACE_MS = 5000;
/**
 * After the SIGKILL, how long its pipes may stay open: a process that left the
 * group (setsid, a daemon) may hold them forever, and the run does not wait for it.
 */
const PIPE_GRACE_MS = 1000;
/** How much of the command's stderr is kept for the error message. */
const STDERR_TAIL_BYTES = 4096;
const STDERR_TAIL_LINES = 10;

/**
 * Runs a command source (argv, no shell) and streams its stdout into a spool
 * file, returning the open descriptor to read it through (the caller closes
 * it): tar needs an entry's size before its bytes, so the output is spooled
 * to disk, never held in memory. `file` is created 0600 and unlinked at once,
 * before the first byte is written: a dump (plaintext even when the shard is
 * encrypted) cannot outlive the process, whatever ends it (`kill -9`, power
 * loss); its space comes back when the descriptor is closed. A full spool
 * disk fails with NO_SPACE naming the file, not as the command's failure. A non-zero exit, a
 * signal, or nothing on stdout but something on stderr fails with SOURCE_FAILED
 * quoting the end of stderr. With `timeout`, a command still running then is
 * stopped and fails the same way: a hung dump must not hold the run, and its
 * lock, forever. The command runs in a process group of its own, so the stop
 * reaches what it started too (`sh -c 'pg_dump ... | gzip'`): SIGTERM to the
 * group, SIGKILL 5 s later, and its pipes are abandoned a second after that.
 * Ctrl-C or SIGTERM of the CLI stops the group the same way.
 */
export async function spoolCommandOutput(
  source: CommandSourceConfig,
  file: string,
  configDir: string,
): Promise<number> {
  const fd = openUnlinked(source, file);
  try {
    await runInto(source, fd, file, configDir);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

async function runInto(
  source: CommandSourceConfig,
  fd: number,
  file: string,
  configDir: string,
): Promise<void> {
  const label = labelOf(source);
  const {
    child,
    signal: signalGroup,
    forget: forgetGroup,
  } = spawnGroup(source.command, { cwd: resolve(configDir, source.cwd ?? '.') });
  const stderr = new TailBuffer(STDERR_TAIL_BYTES);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const stderrDone = finished(child.stderr).catch(() => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolveExit, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolveExit({ code, signal }));
    },
  );

  let written = 0;
  const output = descriptorWriter(fd);
  const copied = pipeline(
    child.stdout,
    async function* count(chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        written += chunk.length;
        yield chunk;
      }
    },
    output,
  );

  // Output that cannot be spooled has nowhere to go: stop the command rather than wait for it.
  copied.catch(() => signalGroup('SIGTERM'));

  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  if (source.timeout !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        timers.push(
          setTimeout(() => {
            signalGroup('SIGKILL');
            timers.push(
              setTimeout(() => {
                child.stdout.destroy();
                child.stderr.destroy();
              }, PIPE_GRACE_MS),
            );
          }, KILL_GRACE_MS),
        );
      }, parseDuration(source.timeout)),
    );
  }

  const [copy, exit] = await Promise.allSettled([copied, exited, stderrDone]).finally(() => {
    for (const timer of timers) clearTimeout(timer);
    forgetGroup();
  });
  if (exit.status === 'rejected') {
    const error = exit.reason as NodeJS.ErrnoException;
    const reason = error.code === 'ENOENT' ? 'not found (is it installed and on PATH?)' : error.message;
    throw new MatricError('SOURCE_FAILED', `${label} could not start: ${reason}`, { cause: error });
  }
  const { code, signal } = exit.value;
  const tail = stderr.lastLines(STDERR_TAIL_LINES);
  const quoted = tail ? `; stderr:\n${tail}` : ' (nothing on stderr)';
  if (timedOut) {
    throw new MatricError(
      'SOURCE_FAILED',
      `${label} was still running after its timeout of ${source.timeout} and was stopped${quoted}`,
      { hint: `raise the timeout of source ${source.name}, or find out why the command hangs` },
    );
  }
  // Our side failed first (a full spool disk): the command's own failure (EPIPE, "connection reset") only follows from it.
  if (copy.status === 'rejected') throw spoolFailure(label, file, copy.reason);
  if (signal) throw new MatricError('SOURCE_FAILED', `${label} was killed by ${signal}${quoted}`);
  if (code !== 0) throw new MatricError('SOURCE_FAILED', `${label} exited with code ${code}${quoted}`);
  if (written === 0 && tail) {
    throw new MatricError('SOURCE_FAILED', `${label} wrote nothing on stdout but wrote to stderr${quoted}`);
  }
}

/**
 * Appends to `fd` and never closes it (the caller reads the dump through it
 * afterwards); an fs.WriteStream would close it when the pipeline is torn down.
 */
function descriptorWriter(fd: number): Writable {
  const writeAll = (chunk: Buffer, done: (error?: Error | null) => void): void => {
    write(fd, chunk, 0, chunk.length, null, (error, written) => {
      if (error) done(error);
      else if (written < chunk.length) writeAll(chunk.subarray(written), done);
      else done();
    });
  };
  return new Writable({
    highWaterMark: 1 << 20,
    write: (chunk: Buffer, _encoding, done) => writeAll(chunk, done),
  });
}

/** Only the program is named: arguments may carry credentials. */
function labelOf(source: CommandSourceConfig): string {
  return `source ${source.name}: command ${source.command[0]}`;
}

function openUnlinked(source: CommandSourceConfig, file: string): number {
  let fd: number;
  try {
    fd = openSync(file, 'wx+', 0o600);
  } catch (error) {
    throw spoolFailure(labelOf(source), file, error);
  }
  try {
    unlinkSync(file);
  } catch (error) {
    closeSync(fd);
    throw spoolFailure(labelOf(source), file, error);
  }
  return fd;
}

/** Writing the spool file failed: NO_SPACE on the spool path for a full disk, the errno otherwise. */
function spoolFailure(label: string, file: string, error: unknown): MatricError {
  const errno = (error as NodeJS.ErrnoException)?.code;
  const full = errno === 'ENOSPC' || errno === 'EDQUOT';
  const reason = full ? `no space left on the spool filesystem (${errno})` : String(error);
  return new MatricError(
    full ? 'NO_SPACE' : 'SOURCE_FAILED',
    `${label}: could not spool its output to ${file}: ${reason}`,
    {
      cause: error,
      hint: full
        ? 'backup.spool_dir needs room for the largest command output plus one compressed shard: free space there or point spool_dir elsewhere'
        : undefined,
    },
  );
}

/** Keeps the last `limit` bytes of a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  lastLines(count: number): string {
    const text = Buffer.concat(this.chunks).subarray(-this.limit).toString('utf8').trimEnd();
    return text.split('\n').slice(-count).join('\n');
  }
}
