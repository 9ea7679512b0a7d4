import type { ResolvedHook } from '../config/paths.js';
import { spawnGroup } from '../util/process-group.js';
import { redact } from '../util/redact.js';

/** After a timeout's SIGTERM, how long the hook gets to exit before SIGKILL. */
const KILL_GRACE_MS = 5000;
/** After the SIGKILL, how long its pipes may stay open (a daemon it started may hold them forever). */
const PIPE_GRACE_MS = 1000;
/** Lines of output quoted in the message of a failed hook. */
const QUOTED_LINES = 10;

export interface HookOutcome {
  ok: boolean;
  /** The hook's exit code; null when it was killed or could not start. */
  exitCode: number | null;
  /** Why it failed, in words (masked), e.g. `exited with code 3`; absent when it succeeded. */
  reason?: string;
  /** Its last lines of output (stdout and stderr as they came), masked. */
  tail: string[];
  /** The signal that ended it: killed from outside, or stopped after its timeout. */
  signal?: string;
}

/**
 * Runs one hook: no shell unless the config asked for one, the run's variables
 * added to this process's environment, stdin closed. Each line it writes (stdout
 * and stderr) goes to `onLine` masked, so the log never shows a secret a
 * hook echoes. It runs in a process group of its own: a timeout or Ctrl-C
 * stops what it started too (SIGTERM, SIGKILL 5 s later). Never throws: a hook
 * that cannot start or fails is an outcome the caller judges.
 */
export async function runHook(
  hook: ResolvedHook,
  env: Record<string, string>,
  options: { secrets: readonly string[]; onLine?: (line: string) => void },
): Promise<HookOutcome> {
  const tail: string[] = [];
  const say = (line: string) => {
    const clean = redact(line, options.secrets);
    tail.push(clean);
    if (tail.length > QUOTED_LINES) tail.shift();
    try {
      options.onLine?.(clean);
    } catch {
      // A failing listener must not fail the hook.
    }
  };
  const {
    child,
    signal: signalGroup,
    forget,
  } = spawnGroup(hook.command, { cwd: hook.cwd, env: { ...process.env, ...env } });
  const streams = [child.stdout, child.stderr].map((stream) => lines(stream, say));

  let timedOut = false;
  const timers: NodeJS.Timeout[] = [
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
    }, hook.timeoutMs),
  ];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  const exit = await exited;
  await Promise.all(streams);
  for (const timer of timers) clearTimeout(timer);
  forget();

  if (exit.error) {
    const code = (exit.error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'could not start: not found (is it installed and on PATH?)'
        : `could not start: ${exit.error.message}`;
    return { ok: false, exitCode: null, reason: redact(reason, options.secrets), tail };
  }
  if (timedOut)
    return {
      ok: false,
      exitCode: exit.code,
      reason: `was still running after ${hook.timeoutMs / 1000} s and was stopped`,
      tail,
      ...(exit.signal && { signal: exit.signal }),
    };
  if (exit.signal)
    return { ok: false, exitCode: null, reason: `was killed by ${exit.signal}`, tail, signal: exit.signal };
  if (exit.code !== 0)
    return { ok: false, exitCode: exit.code, reason: `exited with code ${exit.code}`, tail };
  return { ok: true, exitCode: 0, tail };
}

/** Calls `say` for each line of `stream` (a last line without a newline too); resolves when it ends. */
function lines(stream: NodeJS.ReadableStream, say: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop()!;
      for (const part of parts) say(part.replace(/\r$/, ''));
    });
    const end = () => {
      if (pending) say(pending);
      pending = '';
      resolve();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', end);
  });
}
