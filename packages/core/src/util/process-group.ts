import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { onInterrupt } from './interrupt.js';

export interface GroupChild {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Signals the child and everything it started; nothing when the group is gone. */
  signal(signal: NodeJS.Signals): void;
  /** Stops forwarding an interrupt of this process to the group. */
  forget(): void;
}

/**
 * Runs argv (no shell) in a process group of its own (pgid = its pid), stdout
 * and stderr piped, so a timeout or an interrupt of this process can stop
 * everything it started; an interrupt sends the group SIGTERM until `forget()`.
 */
export function spawnGroup(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): GroupChild {
  const [program, ...args] = argv;
  const child = spawn(program!, args, {
    ...options,
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
    detached: true,
  });
  const signal = (name: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // ESRCH: the whole group is gone already.
    }
  };
  return { child, signal, forget: onInterrupt(() => signal('SIGTERM')) };
}
