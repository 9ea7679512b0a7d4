import { assertMounted as assertMountedAt, type MountInfo } from '@matric-backup/plugin-api';

/** The SDK's mount check, with a hint about mounting a share. */
export function assertMounted(mountPoint: string): Promise<MountInfo> {
  return assertMountedAt(
    mountPoint,
    `mount the share first, e.g. mount -t cifs //server/share ${mountPoint} -o credentials=/etc/smb.creds, or list it in /etc/fstab`,
  );
}
