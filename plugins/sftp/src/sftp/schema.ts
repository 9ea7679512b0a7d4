import { z } from 'zod';
import { checkHostKeyKeys, connectTimeoutKey, hostKeyKeys } from '../shared/ssh-config.js';

export const sftpConfigSchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.int().min(1).max(65535).default(22),
    username: z.string().min(1),
    /** Folder on the server; relative paths start at the login folder. */
    path: z.string().min(1),
    /** Private key file (OpenSSH or PEM format). */
    ssh_key: z.string().min(1).optional(),
    passphrase: z.string().optional(),
    password: z.string().optional(),
    /** An ssh-agent socket, or true for $SSH_AUTH_SOCK. */
    agent: z.union([z.boolean(), z.string().min(1)]).optional(),
    ...hostKeyKeys,
    connect_timeout: connectTimeoutKey,
    /** SFTP requests kept in flight per transfer; more hides latency on distant servers. */
    concurrency: z.int().min(1).max(256).default(32),
  })
  .superRefine((config, ctx) => {
    checkHostKeyKeys(config, ctx);
    if (!config.ssh_key && config.password === undefined && !config.agent) {
      ctx.addIssue({ code: 'custom', path: ['ssh_key'], message: 'set ssh_key, password or agent' });
    }
    if (config.passphrase !== undefined && !config.ssh_key) {
      ctx.addIssue({
        code: 'custom',
        path: ['passphrase'],
        message: 'passphrase unlocks ssh_key, which is not set',
      });
    }
  });

export type SftpConfig = z.output<typeof sftpConfigSchema>;
