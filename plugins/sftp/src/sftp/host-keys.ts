import type { Algorithms, ServerHostKeyAlgorithm } from 'ssh2';
import type { HostKeyVerifier } from '../shared/host-keys.js';

/** ssh2 signature algorithms that prove a key of each known_hosts key type. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const ALL = Object.values(ALGORITHMS_BY_KEY_TYPE).flat();

/**
 * A server has several host keys and presents the one the client prefers. Like
 * OpenSSH, ask first for the types known_hosts holds for this host, so a server
 * whose ed25519 key is unknown but whose RSA key is known is still accepted.
 * (An exact list: ssh2's `prepend` does not move algorithms already listed.)
 */
export function hostKeyAlgorithms(verifier: HostKeyVerifier): Algorithms | undefined {
  const preferred = verifier.knownKeyTypes.flatMap((type) => ALGORITHMS_BY_KEY_TYPE[type] ?? []);
  if (preferred.length === 0) return undefined;
  return { serverHostKey: [...new Set([...preferred, ...ALL])] };
}
