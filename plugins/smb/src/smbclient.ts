import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { type AuthFile, authFileFor, type Credentials } from './auth-file.js';
import { spawnError } from './errors.js';
import { type StatusLine, statusLines } from './output.js';

export interface SmbclientOptions {
  binary: string;
  host: string;
  port: number;
  /** Share name, without the server. */
  share: string;
  credentials: Credentials;
  /** Overrides the credentials' domain (`-W`); only sent when configured. */
  domain?: string;
  timeoutSeconds: number;
  /** Where the temporary auth file goes. */
  tmpDir: string;
}

export interface SmbclientResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Empty when stdout carried file data (`dataOnStdout`). */
  stdout: string;
  stderr: string;
  /** Every NT_STATUS smbclient printed, in order. */
  statuses: StatusLine[];
}

export interface SmbclientProcess {
  /** Present when started with `input: true`; `put /dev/stdin ...` reads it until EOF. */
  stdin: Writable | null;
  /** File data, when started with `dataOnStdout: true` (`get ... -`). */
  data: Readable | null;
  /** Settles once the process exited and the auth file is gone. Rejects only when smbclient cannot start. */
  done: Promise<SmbclientResult>;
  kill(): void;
}

export interface StartOptions {
  input?: boolean;
  dataOnStdout?: boolean;
}

// smbclient also reads a password from these, which would override the auth file.
const PASSWORD_ENV = ['PASSWD', 'PASSWD_FD', 'PASSWD_FILE'];

/**
 * Runs Samba's smbclient, without a shell, for one batch of commands. Every
 * argument is a separate argv entry; credentials go through a 0600 auth file
 * that is removed when the process ends.
 */
export class Smbclient {
  constructor(readonly options: SmbclientOptions) {}

  /** `//host/share`, for messages. */
  get unc(): string {
    return `//${this.options.host}/${this.options.share}`;
  }

  async start(commands: readonly string[], { input = false, dataOnStdout = false }: StartOptions = {}) {
    const { binary, host, port, share, credentials, domain, timeoutSeconds, tmpDir } = this.options;
    const authFile = await authFileFor(credentials, tmpDir);
    const args = [
      `//${host}/${share}`,
      '--port',
      String(port),
      '--authentication-file',
      authFile.path,
      // Highest dialect smbclient may offer; the server picks the best both speak (SMB 3.1.1 with Samba).
      '--max-protocol',
      'SMB3',
      '--timeout',
      String(timeoutSeconds),
      ...(domain === undefined ? [] : ['--workgroup', domain]),
      // With data on stdout, every message must go to stderr.
      ...(dataOnStdout ? ['--stderr'] : []),
      '--command',
      commands.join('; '),
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };
    for (const name of PASSWORD_ENV) delete env[name];
    let child: ChildProcess;
    try {
      child = spawn(binary, args, { env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (error) {
      await authFile.release();
      throw spawnError(error as NodeJS.ErrnoException, binary);
    }
    const done = this.collect(child, authFile, dataOnStdout);
    // Callers await `done` only after streaming; until then a start failure must not count as unhandled.
    done.catch(() => {});
    return {
      stdin: child.stdin,
      data: dataOnStdout ? child.stdout : null,
      done,
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    } satisfies SmbclientProcess;
  }

  /** Runs commands that return no file data; `input`, if any, is what they read from /dev/stdin. */
  async run(commands: readonly string[], input?: string): Promise<SmbclientResult> {
    const process = await this.start(commands, { input: input !== undefined });
    process.stdin?.end(input);
    return process.done;
  }

  private collect(child: ChildProcess, authFile: AuthFile, dataOnStdout: boolean): Promise<SmbclientResult> {
    let stdout = '';
    let stderr = '';
    // setEncoding decodes across chunk boundaries, so a multi-byte name is never split.
    if (!dataOnStdout) child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A process that died early leaves our writes to its stdin with EPIPE; its exit tells why.
    child.stdin?.on('error', () => {});
    return new Promise<SmbclientResult>((resolve, reject) => {
      // A binary that cannot start emits 'error' and then 'close'; the error is what matters.
      let startError: Error | undefined;
      child.once('error', (error) => {
        startError = spawnError(error, this.options.binary);
      });
      child.once('close', (exitCode, signal) => {
        authFile.release().finally(() => {
          if (startError) reject(startError);
          else resolve({ exitCode, signal, stdout, stderr, statuses: statusLines(`${stdout}\n${stderr}`) });
        });
      });
    });
  }
}
