import { defineDestination } from '@matric-backup/plugin-api';
import { localConfigSchema } from './config.js';
import { createLocalDestination } from './destination.js';

export type { LocalConfig } from './config.js';

export default defineDestination({
  type: 'local',
  configSchema: localConfigSchema,
  pathKeys: ['path', 'mount_point'],
  capabilities: { subsecondModified: true, exclusiveCreate: true },
  create: (config) => createLocalDestination(config),
  describe: (config) => config.path,
});
