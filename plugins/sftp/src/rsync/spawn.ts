import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DestinationError } from '@matric-backup/plugin-api';

export interface RsyncResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last few KiB rsync (and ssh) wrote to stderr. */
  stderr: string;
}

export interface RsyncProcess {
  /** stdout, line by line (a lone `\r`, as progress output uses, also ends a line). */
  lines: AsyncIterable<string>;
  /** Settles when rsync exits; rejects only when it could not be started or was aborted. */
  done: Promise<RsyncResult>;
  kill(): void;
}

const STDERR_KEEP = 8 * 1024;

/**
 * Starts the system rsync without a shell: every argument reaches it verbatim.
 * `TZ=UTC` makes --list-only print times we can parse without guessing a zone.
 */
export function startRsync(
  binary: string,
  args: string[],
  { env, signal }: { env: NodeJS.ProcessEnv; signal?: AbortSignal },
): RsyncProcess {
  signal?.throwIfAborted();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, TZ: 'UTC' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  child.stdout.setEncoding('utf8');
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });

  let aborted = false;
  const onAbort = () => {
    aborted = true;
    child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const done = new Promise<RsyncResult>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error.code === 'ENOENT' ? missingRsync(binary, error) : error);
    });
    child.once('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      if (aborted) reject(new DestinationError('ABORTED', 'rsync transfer aborted', { retryable: false }));
      else resolve({ code, signal: exitSignal, stderr });
    });
  });
  // Whoever awaits `lines` alone must not get an unhandled rejection from `done`.
  done.catch(() => undefined);

  return {
    lines,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

function missingRsync(binary: string, cause: Error): DestinationError {
  return new DestinationError(
    'CONFIG',
    `the rsync program was not found (${binary === 'rsync' ? 'rsync is not on PATH' : `${binary} does not exist`}): install it, e.g. \`apt-get install rsync\` (Debian/Ubuntu), \`dnf install rsync\` or \`apk add rsync\`, or set rsync_binary`,
    { cause, retryable: false },
  );
}
