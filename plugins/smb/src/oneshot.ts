import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { authFileFor } from './auth-file.js';
import { findExecutable, type SmbclientOptions, smbclientArgs, smbclientEnv } from './connection.js';
import { statusLines } from './output.js';
import type { BatchResult } from './session.js';

export interface OneShot {
  /** The file data smbclient writes to stdout. */
  data: Readable;
  /** Settles once the process exited and its auth file is gone. */
  done: Promise<BatchResult>;
  kill(): void;
}

/**
 * One smbclient process for one command whose file data comes out on stdout
 * (`get "\path" -`): a transfer that is its own session, so a reader that
 * stops early just ends it.
 */
export async function startOneShot(options: SmbclientOptions, command: string): Promise<OneShot> {
  const binary = await findExecutable(options.binary, 'smbclient');
  const authFile = await authFileFor(options.credentials, options.tmpDir);
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(binary, [...smbclientArgs(options, authFile.path), '--command', command], {
      env: smbclientEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    await authFile.release();
    throw error;
  }
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const done = new Promise<BatchResult>((resolve, reject) => {
    let startError: Error | undefined;
    child.once('error', (error) => {
      startError = error;
    });
    child.once('close', (exitCode, signal) => {
      authFile.release().finally(() => {
        if (startError) reject(startError);
        else
          resolve({
            output,
            statuses: statusLines(output),
            ...(exitCode === 0 ? {} : { exit: { code: exitCode, signal } }),
          });
      });
    });
  });
  // Callers await `done` after streaming; until then a failure must not count as unhandled.
  done.catch(() => {});
  return {
    data: child.stdout,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
