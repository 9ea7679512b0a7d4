import { z } from 'zod';
import { checkHostKeyKeys, connectTimeoutKey, hostKeyKeys } from '../shared/ssh-config.js';
import { parseTarget } from './target.js';

const SSH_ONLY = ['ssh_key', 'known_hosts', 'host_key_fingerprint'] as const;

export const rsyncConfigSchema = z
  .strictObject({
    /** `user@host:/path` over ssh, or `rsync://user@host[:port]/module/path` for an rsync daemon. */
    target: z.string().min(1),
    /** ssh: private key file (no passphrase, or loaded in an ssh-agent). */
    ssh_key: z.string().min(1).optional(),
    /** ssh port, or the daemon port when the URL has none. */
    port: z.int().min(1).max(65535).optional(),
    ...hostKeyKeys,
    /** Daemon password (`password_file` / `password_command` work too); else $RSYNC_PASSWORD. */
    password: z.string().optional(),
    connect_timeout: connectTimeoutKey,
    /** Seconds without any data before rsync gives up on a stalled transfer. */
    io_timeout: z.number().positive().default(300),
    /** The local rsync program: a name looked up on PATH, or an absolute path. */
    rsync_binary: z.string().min(1).default('rsync'),
  })
  .superRefine((config, ctx) => {
    const target = parseTarget(config.target);
    if ('error' in target) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: target.error });
      return;
    }
    if (target.kind === 'daemon') {
      for (const key of SSH_ONLY) {
        if (config[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'only for ssh targets (user@host:/path); an rsync:// daemon has no host key',
          });
        }
      }
      if (config.insecure_accept_any_host_key) {
        ctx.addIssue({
          code: 'custom',
          path: ['insecure_accept_any_host_key'],
          message: 'only for ssh targets (user@host:/path)',
        });
      }
      if (target.port !== undefined && config.port !== undefined && target.port !== config.port) {
        ctx.addIssue({
          code: 'custom',
          path: ['port'],
          message: `the target URL already says port ${target.port}`,
        });
      }
    } else {
      checkHostKeyKeys(config, ctx);
      if (config.password !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['password'],
          message: 'password is for rsync:// daemon targets; over ssh use ssh_key or an ssh-agent',
        });
      }
    }
  });

export type RsyncConfig = z.output<typeof rsyncConfigSchema>;
