import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MatricError } from '@matric-backup/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecryptStream, createEncryptStream } from '../src/crypto/index.js';
import { createGpgHome } from './fixtures/gpg.js';

let dir: string;
let plain: Buffer;
let plainFile: string;
let identityFile: string;
let recipient: string;
let otherIdentityFile: string;

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function through(input: string, transform: NodeJS.ReadWriteStream, output: string): Promise<void> {
  await pipeline(createReadStream(input), transform, createWriteStream(output));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-crypto-'));
  plain = randomBytes(3 * 1024 * 1024 + 123);
  plainFile = join(dir, 'plain.bin');
  await writeFile(plainFile, plain);
  identityFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
  otherIdentityFile = join(dir, 'other.txt');
  execFileSync('age-keygen', ['-o', otherIdentityFile], { stdio: 'ignore' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('age', () => {
  it('our ciphertext decrypts with the age CLI to the same bytes', async () => {
    const encrypted = join(dir, 'ours.age');
    await through(
      plainFile,
      await createEncryptStream({ method: 'age', recipients: [recipient] }),
      encrypted,
    );
    expect((await readFile(encrypted)).subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    const decrypted = execFileSync('age', ['-d', '-i', identityFile, encrypted], { maxBuffer: 64 << 20 });
    expect(sha(decrypted)).toBe(sha(plain));
  });

  it('decrypts what the age CLI encrypted, with recipients given as a file', async () => {
    const recipientsFile = join(dir, 'recipients.txt');
    await writeFile(recipientsFile, `# backup key\n${recipient}\n`);
    const encrypted = join(dir, 'cli.age');
    execFileSync('age', ['-R', recipientsFile, '-o', encrypted, plainFile]);
    const out = join(dir, 'cli.out');
    await through(encrypted, await createDecryptStream('age', { identityFile }), out);
    expect(sha(await readFile(out))).toBe(sha(plain));
    const viaFile = join(dir, 'viafile.age');
    await through(
      plainFile,
      await createEncryptStream({ method: 'age', recipients: [recipientsFile] }),
      viaFile,
    );
    expect(sha(execFileSync('age', ['-d', '-i', identityFile, viaFile], { maxBuffer: 64 << 20 }))).toBe(
      sha(plain),
    );
  });

  it('fails with DECRYPT_FAILED for a wrong identity', async () => {
    const encrypted = join(dir, 'wrong.age');
    await through(
      plainFile,
      await createEncryptStream({ method: 'age', recipients: [recipient] }),
      encrypted,
    );
    const error = await through(
      encrypted,
      await createDecryptStream('age', { identityFile: otherIdentityFile }),
      join(dir, 'x'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatricError);
    expect((error as MatricError).code).toBe('DECRYPT_FAILED');
  });

  it('fails with DECRYPT_FAILED for a tampered ciphertext', async () => {
    const encrypted = join(dir, 'tamper.age');
    await through(
      plainFile,
      await createEncryptStream({ method: 'age', recipients: [recipient] }),
      encrypted,
    );
    const bytes = await readFile(encrypted);
    bytes[bytes.length - 1000]! ^= 0xff;
    const error = await pipeline(
      Readable.from([bytes]),
      await createDecryptStream('age', { identityFile }),
      async (source) => {
        for await (const _ of source) {
          // drain
        }
      },
    ).catch((e: unknown) => e);
    expect((error as MatricError).code).toBe('DECRYPT_FAILED');
  });

  it('asks for an identity when none is given', async () => {
    await expect(createDecryptStream('age', {})).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('gpg', () => {
  let home: string;
  beforeAll(async () => {
    home = join(dir, 'gnupg');
    createGpgHome(home, 'Backup Test <backup@example.com>');
  });
  afterAll(() => spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']));

  it('round-trips through gpg with a throwaway keyring, and the gpg CLI decrypts it too', async () => {
    const encrypted = join(dir, 'ours.gpg');
    await through(
      plainFile,
      await createEncryptStream({ method: 'gpg', recipients: ['backup@example.com'], gpg_homedir: home }),
      encrypted,
    );
    const out = join(dir, 'gpg.out');
    await through(encrypted, await createDecryptStream('gpg', { gpgHomedir: home }), out);
    expect(sha(await readFile(out))).toBe(sha(plain));
    const cli = execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', '--decrypt', encrypted], {
      maxBuffer: 64 << 20,
    });
    expect(sha(cli)).toBe(sha(plain));
  });

  it('fails clearly for an unknown recipient and for a keyring without the secret key', async () => {
    const error = await through(
      plainFile,
      await createEncryptStream({ method: 'gpg', recipients: ['nobody@example.com'], gpg_homedir: home }),
      join(dir, 'n.gpg'),
    ).catch((e: unknown) => e);
    expect((error as MatricError).message).toMatch(/gpg encryption failed/);
    const encrypted = join(dir, 'for-other.gpg');
    await through(
      plainFile,
      await createEncryptStream({ method: 'gpg', recipients: ['backup@example.com'], gpg_homedir: home }),
      encrypted,
    );
    const emptyHome = join(dir, 'empty-gnupg');
    execFileSync('mkdir', ['-m', '700', emptyHome]);
    const failed = await through(
      encrypted,
      await createDecryptStream('gpg', { gpgHomedir: emptyHome }),
      join(dir, 'y'),
    ).catch((e: unknown) => e);
    expect((failed as MatricError).code).toBe('DECRYPT_FAILED');
  });
});
