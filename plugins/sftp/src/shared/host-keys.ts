import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DestinationError } from '@matric-backup/plugin-api';

/**
 * Host key verification shared by sftp (ssh2's hostVerifier) and rsync over ssh
 * (checked with ssh2 first, then handed to OpenSSH as a one-line known_hosts).
 * known_hosts is read the way OpenSSH reads it: comma-separated patterns with
 * `*`/`?` wildcards and `!` negation, `[host]:port` for ports other than 22,
 * hashed `|1|salt|hash` entries, and `@revoked` markers.
 */

export type HostKeyPolicy =
  | { kind: 'known_hosts'; file: string }
  | { kind: 'fingerprint'; fingerprint: string }
  | { kind: 'insecure' };

export interface PresentedKey {
  type: string;
  fingerprint: string;
  blob: Buffer;
}

export interface HostKeyVerifier {
  /** Throws a non-retryable DestinationError CONFIG naming the presented fingerprint when the key is not trusted. */
  verify(blob: Buffer): PresentedKey;
  /** Key types known for this host, to offer first in the handshake (OpenSSH does the same). */
  knownKeyTypes: string[];
  /** How the key was trusted, for `check` output. */
  describe(key: PresentedKey): string;
}

interface KnownHostLine {
  marker?: string;
  hosts: string;
  type: string;
  blob: Buffer;
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first SSH string of the public key blob. */
function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

function presentedKey(blob: Buffer): PresentedKey {
  return { type: keyTypeOf(blob), fingerprint: fingerprintOf(blob), blob };
}

/** `host` for port 22, else `[host]:port`: the name OpenSSH looks up and writes. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export async function createHostKeyVerifier(
  policy: HostKeyPolicy,
  host: string,
  port: number,
): Promise<HostKeyVerifier> {
  const where = `${host}:${port}`;
  if (policy.kind === 'insecure') {
    return {
      verify: presentedKey,
      knownKeyTypes: [],
      describe: (key) => `host key ${key.fingerprint} NOT verified (insecure_accept_any_host_key)`,
    };
  }
  if (policy.kind === 'fingerprint') {
    return {
      knownKeyTypes: [],
      describe: (key) => `host key ${key.type} ${key.fingerprint} matches host_key_fingerprint`,
      verify(blob) {
        const key = presentedKey(blob);
        if (!sameFingerprint(key.fingerprint, policy.fingerprint)) {
          throw hostKeyError(
            `host key of ${where} does not match host_key_fingerprint: the server presented ${key.type} ${key.fingerprint}, expected ${policy.fingerprint}. If the server's key really changed, verify the new one out of band and set host_key_fingerprint: "${key.fingerprint}"`,
          );
        }
        return key;
      },
    };
  }

  const lines = await readKnownHosts(policy.file);
  const name = knownHostsName(host, port);
  const matching = lines.filter((line) => hostMatches(line.hosts, name));
  const trusted = matching.filter((line) => line.marker === undefined);
  const revoked = matching.filter((line) => line.marker === '@revoked');
  const pinHow = (key: PresentedKey) =>
    `pin it with host_key_fingerprint: "${key.fingerprint}", or add it to ${policy.file} with \`ssh-keyscan -p ${port} ${host} >> ${policy.file}\``;

  return {
    knownKeyTypes: [...new Set(trusted.map((line) => line.type))],
    describe: (key) => `host key ${key.type} ${key.fingerprint} found in ${policy.file}`,
    verify(blob) {
      const key = presentedKey(blob);
      if (revoked.some((line) => line.blob.equals(blob))) {
        throw hostKeyError(
          `host key ${key.type} ${key.fingerprint} of ${where} is marked @revoked in ${policy.file}`,
        );
      }
      if (trusted.some((line) => line.blob.equals(blob))) return key;
      if (trusted.length > 0) {
        throw hostKeyError(
          `HOST KEY CHANGED for ${where}: the server presented ${key.type} ${key.fingerprint}, but ${policy.file} holds a different key for ${name} (someone may be intercepting the connection, or the server was reinstalled). If the change is expected, verify the new key out of band, remove the old entry with \`ssh-keygen -R '${name}' -f ${policy.file}\`, then ${pinHow(key)}`,
        );
      }
      throw hostKeyError(
        `host key of ${where} is unknown: ${name} is not in ${policy.file}; the server presented ${key.type} ${key.fingerprint}. After checking that this is the server's key, ${pinHow(key)}`,
        `Compare with \`ssh-keygen -l -f /etc/ssh/ssh_host_${key.type.replace(/^ssh-|-.*$/g, '')}_key.pub\` run on the server.`,
      );
    },
  };
}

function hostKeyError(message: string, hint?: string): DestinationError {
  return new DestinationError('CONFIG', message, { retryable: false, hint });
}

/** `SHA256:abc` and `SHA256:abc=` (with padding) are the same fingerprint; the prefix is case-insensitive. */
function sameFingerprint(a: string, b: string): boolean {
  const normal = (value: string) => value.replace(/^sha256:/i, '').replace(/=+$/, '');
  return normal(a) === normal(b);
}

async function readKnownHosts(file: string): Promise<KnownHostLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DestinationError('CONFIG', `cannot read known_hosts ${file}: ${(error as Error).message}`, {
      retryable: false,
      cause: error,
    });
  }
  return parseKnownHosts(text);
}

export function parseKnownHosts(text: string): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) continue;
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [hosts, type, key] = fields;
    if (!hosts || !type || !key) continue;
    lines.push({ marker, hosts, type, blob: Buffer.from(key, 'base64') });
  }
  return lines;
}

export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}
