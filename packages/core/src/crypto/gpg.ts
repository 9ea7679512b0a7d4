import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MatricError } from '@matric-backup/plugin-api';

/**
 * Runs gpg as a filter (stdin in, stdout out, no shell). The stream fails unless
 * gpg exits 0, so a truncated output never passes as complete; the last lines of
 * stderr explain why.
 */
function gpgFilter(
  args: string[],
  homedir: string | undefined,
  failure: (stderr: string) => MatricError,
): Duplex {
  const fullArgs = [
    '--batch',
    '--yes',
    '--quiet',
    '--no-tty',
    ...(homedir ? ['--homedir', homedir] : []),
    ...args,
  ];
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    // Untranslated messages: verify tells "no secret key" from damaged data by gpg's words.
    const env = { ...process.env, LC_ALL: 'C' };
    const child = spawn('gpg', fullArgs, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const exited = once(child, 'close').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT'
        ? new MatricError('USAGE', 'gpg is not installed', { hint: 'apt-get install gnupg' })
        : failure(error.message);
    });
    // gpg stops reading when it rejects a key; its exit code says why, not the EPIPE.
    const fed = pipeline(Readable.from(source), child.stdin).catch(() => undefined);
    try {
      yield* child.stdout;
      await fed;
      const [code] = await exited;
      if (code !== 0) throw failure(stderr.trim() || `gpg exited with code ${code}`);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });
}

export function createGpgEncryptStream(recipients: readonly string[], homedir?: string): Duplex {
  if (recipients.length === 0) {
    throw new MatricError(
      'CONFIG_INVALID',
      'encryption is enabled but backup.encryption.recipients is empty',
      {
        hint: 'list GPG key ids or fingerprints of the keys that may restore',
      },
    );
  }
  const args = [
    '--trust-model',
    'always',
    '--encrypt',
    ...recipients.flatMap((r) => ['--recipient', r]),
    '--output',
    '-',
  ];
  return gpgFilter(
    args,
    homedir,
    (stderr) => new MatricError('SOURCE_FAILED', `gpg encryption failed: ${stderr}`),
  );
}

export function createGpgDecryptStream(homedir?: string): Duplex {
  return gpgFilter(
    ['--decrypt', '--output', '-'],
    homedir,
    (stderr) =>
      new MatricError('DECRYPT_FAILED', `gpg decryption failed: ${stderr}`, {
        hint: 'the secret key the shard was encrypted to must be in the gpg keyring (encryption.gpg_homedir or GNUPGHOME)',
      }),
  );
}
