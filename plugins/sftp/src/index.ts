import { defineDestination } from '@matric-backup/plugin-api';
import { RsyncDestination } from './rsync/destination.js';
import { rsyncConfigSchema } from './rsync/schema.js';
import { SftpDestination } from './sftp/destination.js';
import { sftpConfigSchema } from './sftp/schema.js';

/** `type: sftp`: objects stored as files over SFTP (ssh2), host keys verified. */
export const sftpPlugin = defineDestination({
  type: 'sftp',
  configSchema: sftpConfigSchema,
  secretKeys: ['password', 'passphrase'],
  pathKeys: ['ssh_key', 'known_hosts'],
  capabilities: { subsecondModified: false, exclusiveCreate: true },
  create: (config) => new SftpDestination(config),
  describe: (config) =>
    `sftp://${config.username}@${config.host}${config.port === 22 ? '' : `:${config.port}`}/${config.path.replace(/^\/+/, '')}`,
});

/** `type: rsync`: objects moved by the system rsync, over ssh or to an rsync daemon. */
export const rsyncPlugin = defineDestination({
  type: 'rsync',
  configSchema: rsyncConfigSchema,
  secretKeys: ['password'],
  pathKeys: ['ssh_key', 'known_hosts'],
  capabilities: { subsecondModified: false },
  create: (config, context) => new RsyncDestination(config, context),
  describe: (config) => config.target,
});

export type { RsyncConfig } from './rsync/schema.js';
export type { SftpConfig } from './sftp/schema.js';

/** Core's loader picks the plugin by `type:` from this array. */
export default [sftpPlugin, rsyncPlugin];
