import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DestinationError } from './errors.js';

/**
 * Mount points, for destinations that write through a mounted filesystem (a
 * USB disk, an NFS or CIFS mount): a plain folder where the mount should be
 * means the disk is unplugged or the share not mounted, and writing there
 * would silently fill the local disk instead.
 */
export interface MountInfo {
  /** The mount point, symlinks resolved. */
  path: string;
  /** `cifs`, `ext4`, `nfs4`...; undefined when only device numbers could be compared. */
  fsType?: string;
  /** `//server/share`, `/dev/sdb1`... */
  source?: string;
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
const unescapeField = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** The filesystem mounted exactly at `path`, or undefined when `path` is a plain folder of its parent's filesystem. */
export async function mountAt(path: string): Promise<MountInfo | undefined> {
  const resolved = await realpath(path);
  let table: string;
  try {
    table = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    // No /proc (not Linux): a mount point sits on another device than its parent, or is the root.
    const [here, parent] = await Promise.all([stat(resolved), stat(dirname(resolved))]);
    const isMount = here.dev !== parent.dev || here.ino === parent.ino;
    return isMount ? { path: resolved } : undefined;
  }
  let found: MountInfo | undefined;
  for (const line of table.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 10 || unescapeField(fields[4]!) !== resolved) continue;
    const separator = fields.indexOf('-', 6);
    // The last entry wins: a later mount over the same point hides the earlier ones.
    found = {
      path: resolved,
      fsType: fields[separator + 1],
      source: unescapeField(fields[separator + 2] ?? ''),
    };
  }
  return found;
}

/**
 * Refuses to work on a `mount_point` where nothing is mounted (or that does
 * not exist): CONFIG, not retried, with `hint` saying how to mount it.
 */
export async function assertMounted(mountPoint: string, hint: string): Promise<MountInfo> {
  let mount: MountInfo | undefined;
  try {
    mount = await mountAt(mountPoint);
  } catch (error) {
    throw new DestinationError(
      'CONFIG',
      `mount_point ${mountPoint} cannot be used: ${(error as Error).message}`,
      {
        cause: error,
        retryable: false,
        hint: `create the folder and mount the filesystem on it; ${hint}`,
      },
    );
  }
  if (!mount) {
    throw new DestinationError(
      'CONFIG',
      `mount_point ${mountPoint} is not a mount point (nothing is mounted there); refusing to write to the local disk`,
      { retryable: false, hint },
    );
  }
  return mount;
}
