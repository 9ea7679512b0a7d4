import { defineDestination } from '@matric-backup/plugin-api';
import { z } from 'zod';
import { createFolderDestination } from './destination.js';

/**
 * The plugin: `type: example` in backup.yaml. Rename the type and the package
 * (matric-backup-plugin-<type>), then replace destination.ts with your store.
 */
export default defineDestination({
  type: 'example',
  // Only this plugin's keys; name, type, enabled, required, retention and plugin are matric-backup's.
  // A strict object, so a typo in a user's block is reported with its key path and line.
  configSchema: z.strictObject({
    path: z.string().min(1),
  }),
  // Keys holding secrets (a user may write K_file or K_command instead); none here.
  secretKeys: [],
  // Resolved against the config file's folder before create() sees them.
  pathKeys: ['path'],
  capabilities: { subsecondModified: true, exclusiveCreate: true },
  create: (config) => createFolderDestination(config.path),
  // Where objects live, for people: the CLI prints `<this>/<key>`. Never put a secret in it.
  describe: (config) => config.path,
});
