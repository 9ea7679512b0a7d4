import { join } from 'node:path';
import type { Destination } from '@matric-backup/plugin-api';
import { createFsStore } from '@matric-backup/plugin-api/fs-store';
import { pathSegments, type SmbConfig } from './config.js';

/**
 * The share through a filesystem mount (mount.cifs, fstab, autofs): the SDK's
 * folder store over `<mount_point>/<path>`, which writes like a local folder
 * (temporary name, fsync, rename, folder fsync; 0600 files, 0700 folders) and
 * first checks, before every operation, that the share is still mounted.
 */
export function createMountedDestination(config: SmbConfig): Destination {
  const mountPoint = config.mount_point!;
  return createFsStore({
    root: join(mountPoint, ...pathSegments(config.path)),
    mount: {
      point: mountPoint,
      hint: `mount the share first, e.g. mount -t cifs //server/share ${mountPoint} -o credentials=/etc/smb.creds, or list it in /etc/fstab`,
    },
  });
}
