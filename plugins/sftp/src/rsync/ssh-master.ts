import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DestinationError } from '@matric-backup/plugin-api';
import { rsyncError } from './errors.js';

/**
 * One OpenSSH master connection per destination that every rsync call
 * multiplexes over (ControlMaster), so a put, list or delete costs a channel
 * instead of a key exchange (~340 ms -> ~70 ms per call on loopback). Starting
 * it doubles as the login check: a wrong key fails once, with ssh's message.
 *
 * ssh puts the master in the background itself (ControlPersist) and ends it
 * after IDLE_SECONDS without clients, so even a process that dies without
 * close() leaves nothing running for long; stop() ends it through its socket.
 * Should it die early, each call falls back to a direct connection.
 */
export interface SshMaster {
  /** ssh options that route a call through the master. */
  options: string[];
  stop(): Promise<void>;
}

const IDLE_SECONDS = 60;

export async function startSshMaster(
  sshWords: string[],
  login: string,
  where: string,
  timeoutMs: number,
): Promise<SshMaster> {
  // Unix socket paths are limited to ~107 bytes (ssh adds a suffix while binding): keep it short.
  const dir = await mkdtemp(join(tmpdir(), 'mb-ssh-'));
  const socket = join(dir, 'master');
  const control = ['-o', `ControlPath=${socket}`];
  const [program, ...options] = sshWords as [string, ...string[]];
  try {
    const started = await runSsh(
      program,
      [...options, '-M', '-N', ...control, '-o', `ControlPersist=${IDLE_SECONDS}`, '--', login],
      timeoutMs,
    );
    if (started.code !== 0) throw rsyncError({ ...started, signal: null }, 'connect to', where, 'ssh');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    options: ['-o', 'ControlMaster=no', ...control],
    async stop() {
      await runSsh(program, ['-O', 'exit', ...control, '--', login], timeoutMs).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs ssh to completion (the master backgrounds itself once logged in). */
function runSsh(
  program: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    const timer = setTimeout(() => {
      stderr += '\nssh timed out';
      child.kill('SIGTERM');
    }, timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new DestinationError(
              'CONFIG',
              'the ssh program was not found: install the OpenSSH client, e.g. `apt-get install openssh-client`',
              {
                cause: error,
                retryable: false,
              },
            )
          : error,
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
