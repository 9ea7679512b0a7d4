import type { Duplex, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isMatricError, type MatricError } from '@matric-backup/plugin-api';
import type { Extract } from 'tar-stream';
import { createDecompressStream } from '../archive/compression.js';
import { createDecryptStream } from '../crypto/index.js';
import { byteLimit } from './limits.js';
import type { ShardManifest } from './manifest.js';

/** What decrypts an encrypted shard: an age identity file, or the gpg keyring. */
export interface ShardKeys {
  /** age identity file (age-keygen output). */
  identity?: string;
  /** gpg home folder holding the secret key; default $GNUPGHOME or ~/.gnupg. */
  gpgHomedir?: string;
}

/**
 * The decryption stream of an encrypted shard (undefined for a plain one).
 * Throws USAGE when an age shard comes without an identity, before anything is
 * read or written.
 */
export async function decryptStreamFor(
  manifest: ShardManifest,
  keys: ShardKeys,
): Promise<Duplex | undefined> {
  if (!manifest.encryption) return undefined;
  return createDecryptStream(manifest.encryption.method, {
    identityFile: keys.identity,
    gpgHomedir: keys.gpgHomedir,
  });
}

/** Whether an age shard could be decrypted with these keys (gpg always tries its keyring). */
export function canDecrypt(manifest: ShardManifest, keys: ShardKeys): boolean {
  return manifest.encryption?.method !== 'age' || keys.identity !== undefined;
}

/**
 * The stored object's bytes -> [decrypt] -> decompress -> at most `tarBytes` ->
 * the tar reader. `head` takes the stored bytes; `done` settles with the chain.
 */
export function decodeChain(
  manifest: ShardManifest,
  decrypt: Duplex | undefined,
  tarBytes: number,
  extract: Extract,
): { head: Writable; done: Promise<void> } {
  const decompress = createDecompressStream(manifest.compression);
  const limit = byteLimit(tarBytes, (bytes) => `the archive decompresses to more than ${bytes} bytes`);
  const done = decrypt ? pipeline(decrypt, decompress, limit, extract) : pipeline(decompress, limit, extract);
  return { head: decrypt ?? decompress, done };
}

/**
 * A decryption failure that says the key does not fit (age: no identity matched;
 * gpg: no secret key), as opposed to damaged ciphertext. Only a shortcut: a read
 * that cannot tell keeps digesting the object, and its checksum decides.
 */
export function isKeyMismatch(error: unknown): boolean {
  return (
    isMatricError(error) &&
    error.code === 'DECRYPT_FAILED' &&
    /no identity matched|no secret key/i.test(error.message)
  );
}

export function isDecryptFailure(error: unknown): error is MatricError {
  return isMatricError(error) && error.code === 'DECRYPT_FAILED';
}
