import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { HostKeyPolicy } from './host-keys.js';

/** Config keys and checks both types share for SSH connections. */

export const hostKeyKeys = {
  /** Default `~/.ssh/known_hosts`. */
  known_hosts: z.string().min(1).optional(),
  host_key_fingerprint: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/i, 'a fingerprint like "SHA256:..." as printed by `ssh-keygen -l`')
    .optional(),
  insecure_accept_any_host_key: z.boolean().default(false),
};

/** Seconds to wait for the TCP connection and the SSH handshake. */
export const connectTimeoutKey = z.number().positive().default(20);

interface HostKeyConfig {
  known_hosts?: string;
  host_key_fingerprint?: string;
  insecure_accept_any_host_key: boolean;
}

export function checkHostKeyKeys(config: HostKeyConfig, ctx: z.RefinementCtx): void {
  const given = (['known_hosts', 'host_key_fingerprint'] as const).filter((key) => config[key] !== undefined);
  if (config.insecure_accept_any_host_key && given.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: [given[0]!],
      message: `insecure_accept_any_host_key: true ignores ${given[0]}; remove one of them`,
    });
  } else if (given.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['host_key_fingerprint'],
      message: 'set only one of known_hosts, host_key_fingerprint',
    });
  }
}

export function hostKeyPolicyOf(config: HostKeyConfig): HostKeyPolicy {
  if (config.insecure_accept_any_host_key) return { kind: 'insecure' };
  if (config.host_key_fingerprint) return { kind: 'fingerprint', fingerprint: config.host_key_fingerprint };
  return {
    kind: 'known_hosts',
    file: config.known_hosts ?? join(process.env.HOME || homedir(), '.ssh', 'known_hosts'),
  };
}
