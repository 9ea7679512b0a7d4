import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DestinationError } from '@matric-backup/plugin-api';

/**
 * Credentials reach smbclient only through a file in its `-A` format
 * (`username=`, `password=`, `domain=` lines, shared with mount.cifs): never on
 * the command line, where every local user can read them in /proc.
 */
export type Credentials =
  /** The user's own credentials_file, passed as it is. */
  { kind: 'file'; path: string } | { kind: 'inline'; username: string; password: string; domain?: string };

export interface AuthFile {
  path: string;
  /** Removes the file when the plugin wrote it; the user's own file is left alone. */
  release(): Promise<void>;
}

/** A file smbclient can read the credentials from, for the lifetime of one smbclient process. */
export async function authFileFor(credentials: Credentials, tmpDir: string): Promise<AuthFile> {
  if (credentials.kind === 'file') {
    await assertReadable(credentials.path);
    return { path: credentials.path, release: async () => {} };
  }
  const lines = [`username=${credentials.username}`, `password=${credentials.password}`];
  if (credentials.domain !== undefined) lines.push(`domain=${credentials.domain}`);
  const path = join(tmpDir, `.matric-smb-auth-${randomBytes(8).toString('hex')}`);
  // 'wx' + 0600: created fresh (never through a planted file or link), readable by us alone.
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(`${lines.join('\n')}\n`);
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  } finally {
    await handle.close();
  }
  return { path, release: () => rm(path, { force: true }) };
}

async function assertReadable(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
  } catch (error) {
    throw new DestinationError(
      'CONFIG',
      `credentials_file ${path} cannot be read: ${(error as Error).message}`,
      {
        cause: error,
        retryable: false,
        hint: 'a file with username=, password= and optionally domain= lines, mode 0600',
      },
    );
  }
}

/** True when a credentials file can be read by other users; worth a warning. */
export async function isExposed(path: string): Promise<boolean> {
  try {
    return ((await stat(path)).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}
