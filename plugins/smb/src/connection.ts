import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { DestinationError } from '@matric-backup/plugin-api';
import type { Credentials } from './auth-file.js';

/** How to reach and log on to one share with smbclient. */
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
  /** Where per-session scratch folders (auth file, data FIFO) go. */
  tmpDir: string;
}

export const uncOf = (options: SmbclientOptions) => `//${options.host}/${options.share}`;

/**
 * smbclient's arguments for a session. `--stderr` sends every message and
 * listing to stderr, leaving stdout for file data (`get ... -`).
 */
export function smbclientArgs(options: SmbclientOptions, authFile: string): string[] {
  return [
    uncOf(options),
    '--port',
    String(options.port),
    '--authentication-file',
    authFile,
    // The highest dialect smbclient may offer; the server picks the best both speak (SMB 3.1.1 with Samba).
    '--max-protocol',
    'SMB3',
    '--timeout',
    String(options.timeoutSeconds),
    '--stderr',
    ...(options.domain === undefined ? [] : ['--workgroup', options.domain]),
  ];
}

// smbclient also takes a password from these, which would override the auth file.
const PASSWORD_ENV = ['PASSWD', 'PASSWD_FD', 'PASSWD_FILE'];

/** UTC dates and C-locale messages, which output.ts parses; no password from the environment. */
export function smbclientEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };
  for (const name of PASSWORD_ENV) delete env[name];
  return env;
}

const INSTALL_HINTS: Record<string, string> = {
  smbclient:
    'install it: apt-get install smbclient (Debian/Ubuntu), dnf install samba-client (Fedora/RHEL), or set smbclient_path',
  stdbuf: 'stdbuf is part of GNU coreutils: apt-get install coreutils',
};

/** The absolute path of an executable, looked up in PATH like a shell would; a clear error when missing. */
export async function findExecutable(name: string, what: 'smbclient' | 'stdbuf'): Promise<string> {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((folder) => join(folder, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next one
    }
  }
  throw new DestinationError(
    'CONFIG',
    `${what} not found (${JSON.stringify(name)}): the smb destination needs it`,
    {
      retryable: false,
      hint: INSTALL_HINTS[what],
    },
  );
}
