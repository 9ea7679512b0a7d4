import { DestinationError } from '@matric-backup/plugin-api';

/**
 * Names on the share. smbclient's `-c` parser splits commands on every `;`
 * (quotes do not protect it) and has no escape for `"`; SMB itself forbids
 * `" * : < > ? |` and control characters (`* ? < > "` are wildcards to `del`
 * and `ls`), and a Samba or Windows server silently renames a name ending in a
 * space or a dot. Such names are refused instead of being stored mangled.
 */

const UNEXPRESSIBLE = /["*:<>?|;\p{Cc}]/u;

/** Why `segment` (one path component) cannot be stored on a share as written, or undefined. */
export function unexpressibleReason(segment: string): string | undefined {
  const bad = UNEXPRESSIBLE.exec(segment)?.[0];
  if (bad !== undefined)
    return `contains ${JSON.stringify(bad)}, which SMB names or smbclient commands cannot carry`;
  if (/[ .]$/.test(segment))
    return 'has a path component ending in a space or a dot, which SMB servers rename';
  return undefined;
}

export function assertExpressible(key: string): void {
  for (const segment of key.split('/')) {
    const reason = unexpressibleReason(segment);
    if (reason) {
      throw new DestinationError(
        'INVALID_KEY',
        `key ${JSON.stringify(key)} cannot be stored on an SMB share: it ${reason}`,
        {
          retryable: false,
        },
      );
    }
  }
}

/** Absolute path on the share in smbclient's notation: `\base\key\parts` (`\` for the share's root). */
export function remotePath(segments: readonly string[]): string {
  return `\\${segments.join('\\')}`;
}

/** One argument of an smbclient command. Callers have checked it has no `"` or `;`. */
export function quote(path: string): string {
  return `"${path}"`;
}
