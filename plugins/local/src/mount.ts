import { relative } from 'node:path';
import { DestinationError } from '@matric-backup/plugin-api';
import type { FsStoreOptions } from '@matric-backup/plugin-api/fs-store';
import type { LocalConfig } from './config.js';

/**
 * With `mount_point` (a USB disk, an NFS mount), the mount the store checks
 * before every operation: nothing mounted there fails with CONFIG (not
 * retried) instead of writing onto the disk underneath and reporting "ok". A
 * `path` outside `mount_point` is refused when the destination is opened: the
 * check would protect nothing.
 */
export function mountOf(config: LocalConfig): FsStoreOptions['mount'] {
  const mountPoint = config.mount_point;
  if (mountPoint === undefined) return undefined;
  const inside = relative(mountPoint, config.path);
  if (inside === '..' || inside.startsWith('../') || inside.startsWith('/')) {
    throw new DestinationError(
      'CONFIG',
      `path ${config.path} is not inside mount_point ${mountPoint}: the mount check would not protect it`,
      { retryable: false, hint: 'set path to a folder on the mounted disk, e.g. <mount_point>/backups' },
    );
  }
  return {
    point: mountPoint,
    hint: `plug in and mount the disk (e.g. mount /dev/sdb1 ${mountPoint}, or list it in /etc/fstab), then run \`matric-backup check\``,
  };
}
