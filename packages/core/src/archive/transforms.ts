import type { Duplex } from 'node:stream';
import type { BackupSection } from '../config/schema.js';
import { createEncryptStream, resolveAgeRecipients } from '../crypto/index.js';
import type { ChunkPool } from './chunk-pool.js';
import { createCompressStream } from './compression.js';
import type { CompressionAlgorithm } from './format.js';

/** How the stored object is encoded after tar; decides its key suffix and the sidecar's fields. */
export interface StoredFormat {
  compression: CompressionAlgorithm;
  level?: number;
  encryption: null | { method: 'age' | 'gpg'; recipients: string[]; gpgHomedir?: string };
}

/**
 * Reads the format from the config. age recipients given as files are read here,
 * before any work, so a bad recipient fails the run before anything is archived.
 */
export async function storedFormat(
  backup: Pick<BackupSection, 'compression' | 'encryption'>,
): Promise<StoredFormat> {
  const { algorithm, level } = backup.compression;
  const encryption = backup.encryption?.enabled ? backup.encryption : undefined;
  if (!encryption) return { compression: algorithm, level, encryption: null };
  const recipients =
    encryption.method === 'age'
      ? await resolveAgeRecipients(encryption.recipients)
      : [...encryption.recipients];
  return {
    compression: algorithm,
    level,
    encryption: { method: encryption.method, recipients, gpgHomedir: encryption.gpg_homedir },
  };
}

/**
 * The streams between tar and the stored bytes, in order: compression, then
 * encryption when enabled. The compressor recycles through `pool` (see
 * createCompressStream).
 */
export async function storedTransforms(format: StoredFormat, pool?: ChunkPool): Promise<Duplex[]> {
  const transforms: Duplex[] = [createCompressStream(format.compression, format.level, pool)];
  if (format.encryption) {
    const { method, recipients, gpgHomedir } = format.encryption;
    transforms.push(await createEncryptStream({ method, recipients, gpg_homedir: gpgHomedir }));
  }
  return transforms;
}
