import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/**
 * Shared by the sshd and rsync daemon harnesses: a free loopback port, a
 * foreground daemon started as our child, and a stop that ends exactly the
 * processes we started (the daemon and the per-connection children it forked,
 * found by parent PID; never by name).
 */

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  readonly child: ChildProcess;
  /** The daemon's last output lines, for failure messages. */
  output(): string;
  /** SIGKILLs the daemon and every descendant (open connections die too), then waits for the daemon to exit. */
  kill(): Promise<void>;
}

export async function startDaemon(
  command: string,
  args: string[],
  port: number,
  { timeoutMs = 10_000 } = {},
): Promise<Daemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const killTree = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    for (const pid of [...descendants(child.pid!), child.pid!]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // A test process that dies before its afterAll (a crash, a closed output pipe)
  // must not leave daemons behind; 'exit' handlers run synchronously even then.
  process.once('exit', killTree);

  const daemon: Daemon = {
    child,
    output: () => output,
    async kill() {
      process.removeListener('exit', killTree);
      killTree();
      await exited;
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.race([canConnect(port), spawnError, exited.then(() => 'exited' as const)]))) {
    if (Date.now() > deadline) {
      await daemon.kill();
      throw new Error(`${command} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (child.exitCode !== null) throw new Error(`${command} exited with code ${child.exitCode}:\n${output}`);
  return daemon;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every live process below `root`, children first-found order; read from /proc (Linux). */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** A daemon the tests can take down and bring back on the same port: a server that goes away and returns. */
export interface RestartableDaemon {
  /** Kills it (open connections die at once); idempotent. */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again. */
  restart(): Promise<void>;
}

export async function startRestartableDaemon(
  command: string,
  args: string[],
  port: number,
): Promise<RestartableDaemon> {
  let daemon: Daemon | undefined = await startDaemon(command, args, port);
  const stop = async () => {
    await daemon?.kill();
    daemon = undefined;
  };
  return {
    stop,
    async restart() {
      await stop();
      daemon = await startDaemon(command, args, port);
    },
  };
}
