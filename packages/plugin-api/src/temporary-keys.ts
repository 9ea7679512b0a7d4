import { randomBytes } from 'node:crypto';

/**
 * The one naming scheme for the temporary object of an unfinished put on a
 * store that writes a file and renames it into place (a folder, SFTP, SMB):
 * `<folder>/.<name>.tmp-<token>` beside the final `<folder>/<name>`, so the
 * rename stays within one folder and the file is hidden from `ls`. `list()`
 * skips every key `parseTemporaryKey` recognises, and `listTemporary()` reports
 * them with the key they were being written as, so core can sweep a killed
 * upload's leftovers of its own shards.
 *
 * The token (12 lowercase hex, random per put) keeps two writers of one key
 * apart; it names no writer: whose leftover it is follows from the key (a
 * shard id carries its config's tag). The name is 19 characters longer than
 * the final one, so on a store with a 255-byte name limit a key's last segment
 * may have up to 236 bytes.
 *
 * Leftovers of earlier plugin versions use the same shape (an SMB share may
 * hold names shortened to 100 characters; they are recognised, and their
 * `key` is then the shortened name, which is never one of core's shard keys).
 */

const TOKEN = /^[0-9a-f]{12}$/;
const TEMPORARY_NAME = /^\.(.+)\.tmp-[0-9a-f]{12}$/s;

/** A new random token for temporaryKey: 12 lowercase hex characters. */
export function temporaryToken(): string {
  return randomBytes(6).toString('hex');
}

/** The temporary key to write `key` under before renaming it into place: `a/b` -> `a/.b.tmp-<token>`. */
export function temporaryKey(key: string, token: string = temporaryToken()): string {
  if (!TOKEN.test(token))
    throw new TypeError(`temporary token must be 12 lowercase hex characters, got ${token}`);
  const slash = key.lastIndexOf('/');
  return `${key.slice(0, slash + 1)}.${key.slice(slash + 1)}.tmp-${token}`;
}

/**
 * `{ key }` when `keyOrName` (a key, or just its last segment) is a temporary
 * object of this scheme, with the key it was being written as; otherwise undefined.
 */
export function parseTemporaryKey(keyOrName: string): { key: string } | undefined {
  const slash = keyOrName.lastIndexOf('/');
  const match = TEMPORARY_NAME.exec(keyOrName.slice(slash + 1));
  return match ? { key: `${keyOrName.slice(0, slash + 1)}${match[1]}` } : undefined;
}
