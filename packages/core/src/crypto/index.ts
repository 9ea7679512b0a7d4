import type { Duplex } from 'node:stream';
import { MatricError } from '@matric-backup/plugin-api';
import {
  createAgeDecryptStream,
  createAgeEncryptStream,
  readAgeIdentities,
  resolveAgeRecipients,
} from './age.js';
import { createGpgDecryptStream, createGpgEncryptStream } from './gpg.js';

export interface EncryptionSettings {
  method: 'age' | 'gpg';
  recipients: readonly string[];
  gpg_homedir?: string;
}

/** The transform that encrypts a shard, for the configured method. */
export async function createEncryptStream(settings: EncryptionSettings): Promise<Duplex> {
  if (settings.method === 'gpg') return createGpgEncryptStream(settings.recipients, settings.gpg_homedir);
  return createAgeEncryptStream(await resolveAgeRecipients(settings.recipients));
}

export interface DecryptionKeys {
  /** age identity file (age-keygen output). */
  identityFile?: string;
  gpgHomedir?: string;
}

/** The transform that decrypts a shard; throws DECRYPT_FAILED/USAGE when no key is given or it does not fit. */
export async function createDecryptStream(method: 'age' | 'gpg', keys: DecryptionKeys): Promise<Duplex> {
  if (method === 'gpg') return createGpgDecryptStream(keys.gpgHomedir);
  if (!keys.identityFile) {
    throw new MatricError('USAGE', 'this shard is age-encrypted and no identity was given', {
      hint: 'pass --identity FILE or set backup.encryption.identity_file',
    });
  }
  return createAgeDecryptStream(await readAgeIdentities(keys.identityFile));
}

export { resolveAgeRecipients };
