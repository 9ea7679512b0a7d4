import { relative } from 'node:path';
import { assertMounted, DestinationError, type MountInfo } from '@matric-backup/plugin-api';
import type { LocalConfig } from './config.js';

/**
 * With `mount_point` (a USB disk, an NFS mount), the check every operation
 * runs first: something must be mounted there, or the operation fails with
 * CONFIG (not retried) instead of writing onto the disk underneath and
 * reporting "ok". Without it, a no-op. A `path` outside `mount_point` is
 * refused when the destination is opened: the guard would protect nothing.
 */
export function mountGuard(config: LocalConfig): () => Promise<MountInfo | undefined> {
  const mountPoint = config.mount_point;
  if (mountPoint === undefined) return async () => undefined;
  const inside = relative(mountPoint, config.path);
  if (inside === '..' || inside.startsWith('../') || inside.startsWith('/')) {
    throw new DestinationError(
      'CONFIG',
      `path ${config.path} is not inside mount_point ${mountPoint}: the mount check would not protect it`,
      { retryable: false, hint: 'set path to a folder on the mounted disk, e.g. <mount_point>/backups' },
    );
  }
  return () =>
    assertMounted(
      mountPoint,
      `plug in and mount the disk (e.g. mount /dev/sdb1 ${mountPoint}, or list it in /etc/fstab), then run \`matric-backup check\``,
    );
}
