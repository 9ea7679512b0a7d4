import { z } from 'zod';
import { unexpressibleReason } from './names.js';

const SHARE = /^(?:\/\/|\\\\)([^/\\\s]+)[/\\]([^/\\]+)[/\\]?$/;

/** `//server/share` (or `\\server\share`) split into its parts. */
export function parseShare(share: string): { host: string; name: string } {
  const match = SHARE.exec(share);
  if (!match) throw new Error(`not a share: ${share}`);
  return { host: match[1]!, name: match[2]! };
}

/** `a/b`, `/a/b/`, `a\b` -> ['a', 'b']. */
export function pathSegments(path: string): string[] {
  return path.split(/[/\\]+/).filter((segment) => segment !== '');
}

// The smbclient/mount.cifs credentials file is line based and smbclient trims
// the start of each value, so such secrets cannot be passed through it.
function credentialProblem(value: string): string | undefined {
  if (/[\r\n\0]/.test(value)) return 'must not contain a line break or NUL';
  if (/^\s/.test(value)) return 'must not start with whitespace (the smbclient credentials file trims it)';
  return undefined;
}

export const smbConfigSchema = z
  .strictObject({
    /** `//server/share`; folders inside the share go in `path`. Required unless `mount_point` is set. */
    share: z
      .string()
      .regex(SHARE, 'a share like //server/share (put folders inside the share in `path`)')
      .optional(),
    /** Folder inside the share (or inside mount_point) that holds the shards; created when missing. */
    path: z.string().default(''),
    /** File in the smbclient/mount.cifs format: `username=`, `password=`, `domain=` lines. */
    credentials_file: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    /** Also `password_file` / `password_command`, resolved by core. */
    password: z.string().optional(),
    domain: z.string().min(1).optional(),
    port: z.int().min(1).max(65535).default(445),
    /**
     * Where the share is already mounted (mount.cifs, fstab, autofs). The plugin
     * then writes through the filesystem, after checking something is mounted there.
     */
    mount_point: z.string().min(1).optional(),
    /** The smbclient binary (Debian/Ubuntu: `apt-get install smbclient`). */
    smbclient_path: z.string().min(1).default('smbclient'),
    /** Seconds smbclient waits for one SMB operation (its `-t`). */
    timeout: z.int().positive().default(60),
    /** smbclient sessions kept logged on at most (each is one connection to the server). */
    connections: z.int().min(1).max(16).default(4),
  })
  .superRefine((config, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    for (const key of ['username', 'password', 'domain'] as const) {
      const value = config[key];
      const problem = value === undefined ? undefined : credentialProblem(value);
      // The message never repeats the value: it may be a secret.
      if (problem) issue(key, `${key} ${problem}`);
    }
    for (const segment of pathSegments(config.path)) {
      const reason =
        segment === '..' || segment === '.' ? `contains ${segment}` : unexpressibleReason(segment);
      if (reason) issue('path', `path ${JSON.stringify(config.path)} ${reason}`);
    }
    if (config.mount_point !== undefined) return;
    if (config.share === undefined)
      issue('share', 'share is required (or set mount_point to use a mounted share)');
    const inline = config.username !== undefined || config.password !== undefined;
    if (config.credentials_file !== undefined && inline) {
      issue('credentials_file', 'give either credentials_file or username/password, not both');
    } else if (config.credentials_file === undefined && config.username === undefined) {
      issue('username', 'username (with password) or credentials_file is required to log on to the share');
    }
  });

export type SmbConfigInput = z.input<typeof smbConfigSchema>;
export type SmbConfig = z.output<typeof smbConfigSchema>;
