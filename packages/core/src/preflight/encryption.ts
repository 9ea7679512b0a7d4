import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { BackupSection } from '../config/schema.js';
import type { PreflightIssue } from './issues.js';

const execFileAsync = promisify(execFile);
const AT = ['backup', 'encryption'] as const;

type Encryption = NonNullable<BackupSection['encryption']>;

export interface EncryptionCheckOptions {
  /** Also check that `identity_file` holds the key of a recipient (check and dry run; a run does not need it). */
  identity: boolean;
}

/**
 * What would make encryption fail or make shards unreadable: an age recipient
 * that does not parse (a typo in a key, a file of keys with a bad line), a gpg
 * recipient missing from the keyring or unable to encrypt, and an identity file
 * that matches none of the recipients. Each problem names its key.
 */
export async function checkEncryption(
  encryption: Encryption | undefined,
  options: EncryptionCheckOptions,
): Promise<PreflightIssue[]> {
  if (!encryption?.enabled) return [];
  if (encryption.recipients.length === 0) {
    return [
      {
        path: [...AT, 'recipients'],
        message:
          encryption.method === 'age'
            ? 'encryption is enabled but no recipient is listed; add an age public key (age1...) from `age-keygen -y KEYFILE`'
            : 'encryption is enabled but no recipient is listed; add the id or fingerprint of a key in the gpg keyring',
      },
    ];
  }
  return encryption.method === 'age' ? checkAge(encryption, options) : checkGpg(encryption);
}

async function checkAge(encryption: Encryption, options: EncryptionCheckOptions): Promise<PreflightIssue[]> {
  // age-encryption is loaded only when encryption is on: every CLI start would pay for it otherwise
  const { Encrypter, identityToRecipient } = await import('age-encryption');
  const parseError = (key: string): string | undefined => {
    try {
      new Encrypter().addRecipient(key);
      return undefined;
    } catch (error) {
      // The library repeats the key ("Invalid checksum in age1..."); the message already names it.
      return (error as Error).message.replace(` in ${key}`, '');
    }
  };
  const issues: PreflightIssue[] = [];
  const valid = new Set<string>();
  for (const [index, entry] of encryption.recipients.entries()) {
    const path = [...AT, 'recipients', index];
    if (entry.startsWith('age1')) {
      const error = parseError(entry);
      if (error)
        issues.push({ path, message: `${entry} is not a valid age recipient (${error}); ${COPY_KEY}` });
      else valid.add(entry);
      continue;
    }
    const lines = await keyLinesOf(entry);
    if ('error' in lines) {
      issues.push({
        path,
        message: `${entry} is neither an age1... public key nor a readable file of them (${lines.error})`,
      });
      continue;
    }
    if (lines.keys.length === 0) issues.push({ path, message: `recipient file ${entry} holds no key` });
    for (const { line, text } of lines.keys) {
      const error = parseError(text);
      if (error)
        issues.push({
          path,
          message: `recipient file ${entry}, line ${line}: not a valid age recipient (${error}); ${COPY_KEY}`,
        });
      else valid.add(text);
    }
  }
  const file = encryption.identity_file;
  if (!options.identity || file === undefined) return issues;

  const path = [...AT, 'identity_file'];
  const lines = await keyLinesOf(file);
  if ('error' in lines)
    return [...issues, { path, message: `cannot read identity file ${file} (${lines.error})` }];
  const identities = lines.keys.filter(({ text }) => text.startsWith('AGE-SECRET-KEY-'));
  if (identities.length === 0) {
    return [
      ...issues,
      {
        path,
        message: `identity file ${file} holds no AGE-SECRET-KEY line (write one with \`age-keygen -o FILE\`)`,
      },
    ];
  }
  const matching: string[] = [];
  for (const { line, text } of identities) {
    try {
      const recipient = await identityToRecipient(text);
      if (valid.has(recipient)) matching.push(recipient);
    } catch (error) {
      issues.push({
        path,
        message: `identity file ${file}, line ${line}: not a valid age identity (${(error as Error).message})`,
      });
    }
  }
  // Only meaningful once the recipients themselves are right; a recipient typo is reported above.
  if (matching.length === 0 && valid.size > 0 && issues.length === 0) {
    issues.push({
      path,
      message: `the key in identity file ${file} matches none of backup.encryption.recipients, so verify and restore could not decrypt the shards with it; add its public key (\`age-keygen -y ${file}\`) to the recipients or point identity_file at the right key`,
    });
  }
  return issues;
}

const COPY_KEY = 'copy the public key printed by `age-keygen -y KEYFILE`';

/** The key lines of an age key file (`#` comments and blank lines skipped), with their line numbers. */
async function keyLinesOf(
  file: string,
): Promise<{ keys: Array<{ line: number; text: string }> } | { error: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
  const keys = text
    .split('\n')
    .map((line, index) => ({ line: index + 1, text: line.trim() }))
    .filter(({ text: line }) => line !== '' && !line.startsWith('#'));
  return { keys };
}

async function checkGpg(encryption: Encryption): Promise<PreflightIssue[]> {
  const home = encryption.gpg_homedir;
  if (home !== undefined && !(await stat(home).catch(() => undefined))?.isDirectory()) {
    return [{ path: [...AT, 'gpg_homedir'], message: `gpg home folder ${home} does not exist` }];
  }
  const keyring = home ?? 'the default gpg keyring ($GNUPGHOME or ~/.gnupg)';
  const issues: PreflightIssue[] = [];
  for (const [index, recipient] of encryption.recipients.entries()) {
    const path = [...AT, 'recipients', index];
    const found = await listPublicKey(recipient, home);
    if (found === 'no-gpg') return [{ path: [...AT, 'method'], message: NO_GPG }];
    if (found === 'missing') {
      issues.push({
        path,
        message: `gpg recipient ${recipient} is not in ${keyring}; import its public key (\`gpg --import\`) or fix the id`,
      });
    } else if (found === 'cannot-encrypt') {
      issues.push({
        path,
        message: `gpg key ${recipient} in ${keyring} cannot encrypt (expired, revoked, disabled or without an encryption subkey)`,
      });
    }
  }
  return issues;
}

const NO_GPG = 'encryption method gpg needs the gpg program, which is not installed (apt-get install gnupg)';

/** Asks gpg, as encryption will, whether `recipient` names a public key that can encrypt. */
async function listPublicKey(
  recipient: string,
  home: string | undefined,
): Promise<'ok' | 'missing' | 'cannot-encrypt' | 'no-gpg'> {
  const args = ['--batch', '--no-tty', '--with-colons', ...(home ? ['--homedir', home] : [])];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('gpg', [...args, '--list-keys', '--', recipient], {
      env: { ...process.env, LC_ALL: 'C' },
      encoding: 'utf8',
    }));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no-gpg' : 'missing';
  }
  // Field 12 of a pub record: an upper-case E means the key as a whole can encrypt now.
  const usable = stdout
    .split('\n')
    .filter((line) => line.startsWith('pub:'))
    .some((line) => (line.split(':')[11] ?? '').includes('E'));
  return usable ? 'ok' : stdout.includes('pub:') ? 'cannot-encrypt' : 'missing';
}
