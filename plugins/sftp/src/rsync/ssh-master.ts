import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DestinationError } from '@matric-backup/core';
import { rsyncError } from './errors.js';

/**
 * One OpenSSH master connection per destination that every rsync call
 * multiplexes over (ControlMaster), so a put, list or delete costs a
 * channel instead of a full key exchange (~340 ms -> ~70 ms per call on
 * loopback). It is our own child process, ended by PID in stop(). Should it
 * die, ssh falls back to a direct connection for each call; and it doubles as
 * the authentication check, so a wrong key fails once with ssh's own message.
 */
export interface SshMaster {
  /** ssh options that route a call through the master. */
  options: string[];
  /** Resolves when the master exited (server gone, killed). */
  exited: Promise<void>;
  stop(): Promise<void>;
}

const READY_POLL_MS = 20;

export async function startSshMaster(
  sshWords: string[],
  destination: string,
  where: string,
  timeoutMs: number,
): Promise<SshMaster> {
  // Unix socket paths are limited to ~107 bytes (and ssh adds a suffix while binding): keep it short.
  const dir = await mkdtemp(join(tmpdir(), 'mb-ssh-'));
  const socket = join(dir, 'master');
  const child: ChildProcess = spawn(
    sshWords[0]!,
    [...sshWords.slice(1), '-M', '-N', '-o', `ControlPath=${socket}`, '-o', 'ControlPersist=no', '--', destination],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  let exitCode: number | null | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      exitCode = null;
      resolve();
    });
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    });
  });
  const cleanup = () => rm(dir, { recursive: true, force: true });
  exited.then(cleanup);

  const deadline = Date.now() + timeoutMs;
  while (!(await access(socket).then(
    () => true,
    () => false,
  ))) {
    if (exitCode !== undefined || Date.now() > deadline) {
      child.kill('SIGTERM');
      await exited;
      if (spawnError?.code === 'ENOENT') {
        throw new DestinationError('CONFIG', 'the ssh program was not found: install the OpenSSH client, e.g. `apt-get install openssh-client`', {
          cause: spawnError,
          retryable: false,
        });
      }
      throw rsyncError(
        { code: exitCode ?? null, signal: null, stderr: stderr || 'timed out' },
        'connect to',
        where,
        'ssh',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }

  return {
    options: ['-o', 'ControlMaster=no', '-o', `ControlPath=${socket}`],
    exited,
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };
}
