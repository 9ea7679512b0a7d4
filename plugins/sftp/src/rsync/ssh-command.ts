import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probeHostKey } from '../sftp/connect.js';
import { createHostKeyVerifier, type HostKeyPolicy } from '../shared/host-keys.js';
import { quoteShellWord } from './args.js';

/** The name the one-line known_hosts file is written under, whatever host and port the target has. */
const HOST_ALIAS = 'matric-backup-target';

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  'ssh-rsa': 'rsa-sha2-512,rsa-sha2-256',
};

export interface SshCommandOptions {
  host: string;
  port: number;
  user?: string;
  sshKey?: string;
  policy: HostKeyPolicy;
  connectTimeoutSeconds: number;
  /** Where the 0600 known_hosts file goes. */
  tmpDir: string;
}

export interface SshCommand {
  /** `ssh` and its options, one word each (no destination). */
  words: string[];
  /** How the host key was trusted, for `check`. */
  trust: string;
}

/** The `-e` value for rsync: rsync splits it on spaces itself, honouring quotes. */
export function renderSshCommand(words: string[]): string {
  return words.map(quoteShellWord).join(' ');
}

/**
 * Builds the ssh command rsync runs. Host keys follow the same rules as `type: sftp`
 * (known_hosts or host_key_fingerprint, checked by our own code so a refusal names
 * the presented fingerprint); the key that passed is then written as the ONLY entry
 * of a private known_hosts file and OpenSSH runs with StrictHostKeyChecking=yes
 * against it. So ssh accepts exactly the key we verified, and a server that swaps
 * keys between our check and rsync's connection is refused by ssh itself.
 */
export async function buildSshCommand(options: SshCommandOptions): Promise<SshCommand> {
  const words = [
    'ssh',
    '-p',
    String(options.port),
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${Math.ceil(options.connectTimeoutSeconds)}`,
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
    '-o',
    'LogLevel=ERROR',
  ];
  if (options.sshKey) words.push('-i', options.sshKey, '-o', 'IdentitiesOnly=yes');

  let trust: string;
  if (options.policy.kind === 'insecure') {
    words.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null');
    trust = 'host key NOT verified (insecure_accept_any_host_key)';
  } else {
    const verifier = await createHostKeyVerifier(options.policy, options.host, options.port);
    const endpoint = { host: options.host, port: options.port, username: options.user ?? 'matric-backup' };
    const key = await probeHostKey(endpoint, verifier, options.connectTimeoutSeconds * 1000);
    const knownHosts = join(options.tmpDir, `known_hosts-${randomBytes(6).toString('hex')}`);
    await writeFile(knownHosts, `${HOST_ALIAS} ${key.type} ${key.blob.toString('base64')}\n`, {
      mode: 0o600,
    });
    words.push(
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      `HostKeyAlias=${HOST_ALIAS}`,
      '-o',
      `HostKeyAlgorithms=${SIGNATURE_ALGORITHMS[key.type] ?? key.type}`,
      '-o',
      'UpdateHostKeys=no',
    );
    trust = verifier.describe(key);
  }
  return { words, trust };
}
