import { defineDestination } from '@matric-backup/plugin-api';
import { createSmbclientDestination } from './client-destination.js';
import { pathSegments, smbConfigSchema } from './config.js';
import { createMountedDestination } from './mounted-destination.js';

export { createSmbclientDestination } from './client-destination.js';
export { type SmbConfig, type SmbConfigInput, smbConfigSchema } from './config.js';
export { createMountedDestination } from './mounted-destination.js';

/**
 * `type: smb`: a Windows/Samba share, spoken to with Samba's smbclient, or
 * written through an existing mount when `mount_point` is set.
 */
export default defineDestination({
  type: 'smb',
  configSchema: smbConfigSchema,
  secretKeys: ['password'],
  pathKeys: ['credentials_file', 'mount_point'],
  capabilities: {
    // ls prints whole seconds.
    subsecondModified: false,
    // A rename without -f (client) or a hard link (mount) refuses an existing name.
    exclusiveCreate: true,
  },
  create: (config, context) =>
    config.mount_point === undefined
      ? createSmbclientDestination(config, context)
      : createMountedDestination(config),
  describe: (config) => [config.mount_point ?? config.share ?? '', ...pathSegments(config.path)].join('/'),
});
