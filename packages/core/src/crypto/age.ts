import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { MatricError } from '@matric-backup/plugin-api';
import { webTransformDuplex } from './web-duplex.js';

/** `age1...` keys as given, or files holding one per line (`#` comments allowed), as the age CLI reads them. */
export async function resolveAgeRecipients(entries: readonly string[]): Promise<string[]> {
  const recipients: string[] = [];
  for (const entry of entries) {
    if (/^age1[0-9a-z]+$/.test(entry)) {
      recipients.push(entry);
      continue;
    }
    const text = await readFile(entry, 'utf8').catch(() => {
      throw new MatricError(
        'CONFIG_INVALID',
        `encryption recipient ${JSON.stringify(entry)} is neither an age1... key nor a readable file`,
        {
          hint: 'list public keys printed by `age-keygen -y KEYFILE`, or paths of files holding them',
        },
      );
    });
    recipients.push(...keyLines(text));
  }
  if (recipients.length === 0) {
    throw new MatricError(
      'CONFIG_INVALID',
      'encryption is enabled but backup.encryption.recipients is empty',
      {
        hint: 'add an age public key (age1...) generated with `age-keygen -o key.txt`',
      },
    );
  }
  return recipients;
}

/** The AGE-SECRET-KEY lines of an identity file (the format `age-keygen` writes). */
export async function readAgeIdentities(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new MatricError('USAGE', `cannot read identity file ${file}: ${error.code ?? error.message}`);
  });
  const identities = keyLines(text).filter((line) => line.startsWith('AGE-SECRET-KEY-'));
  if (identities.length === 0) {
    throw new MatricError('USAGE', `identity file ${file} holds no AGE-SECRET-KEY line`, {
      hint: 'pass the file written by `age-keygen -o FILE`',
    });
  }
  return identities;
}

function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

// age-encryption is loaded only for encrypted shards: every CLI start would pay for it otherwise
const ageModule = () => import('age-encryption');

export async function createAgeEncryptStream(recipients: readonly string[]): Promise<Duplex> {
  const { Encrypter } = await ageModule();
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return webTransformDuplex(
    (input) => encrypter.encrypt(input),
    (error) =>
      new MatricError('SOURCE_FAILED', `age encryption failed: ${(error as Error).message}`, {
        cause: error,
      }),
  );
}

export async function createAgeDecryptStream(identities: readonly string[]): Promise<Duplex> {
  const { Decrypter } = await ageModule();
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  return webTransformDuplex(
    (input) => decrypter.decrypt(input),
    (error) =>
      new MatricError('DECRYPT_FAILED', `age decryption failed: ${(error as Error).message}`, {
        cause: error,
        hint: 'check that --identity / encryption.identity_file holds the key the shard was encrypted to',
      }),
  );
}
