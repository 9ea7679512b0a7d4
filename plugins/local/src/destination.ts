import type { Destination } from '@matric-backup/plugin-api';
import { createFsStore } from '@matric-backup/plugin-api/fs-store';
import type { LocalConfig } from './config.js';
import { mountOf } from './mount.js';

/**
 * A folder on a local or mounted filesystem: the SDK's folder store over
 * `path`. With `mount_point`, every operation first checks that a filesystem
 * is mounted there (see mount.ts).
 */
export function createLocalDestination(config: LocalConfig): Destination {
  return createFsStore({ root: config.path, mount: mountOf(config) });
}
