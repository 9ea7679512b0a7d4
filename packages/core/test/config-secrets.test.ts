// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is backup.yaml syntax in these strings, not a template.
import { join } from 'node:path';
import { maskMessages, redact } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { secretWeakness } from '../src/util/secret-strength.js';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

const { load, fail } = loaderIn(tempDirs());
const env = { PATH: process.env.PATH };

const s3 = (keys: string) => `backup:
  destinations:
    - name: offsite
      type: s3
      bucket: b
${keys}`;

describe('loadConfig: secret references', () => {
  it('K_file reads the secret from a file relative to the config, without its trailing newline', async () => {
    const config = await load(s3('      secret_access_key_file: secrets/s3.key\n'), {
      env,
      files: { 'secrets/s3.key': 'file-secret-1\n' },
    });
    expect(config.destinations[0]!.config).toEqual({ bucket: 'b', secret_access_key: 'file-secret-1' });
    expect(config.destinations[0]!.secrets).toEqual(['file-secret-1']);
    expect(config.secrets).toContain('file-secret-1');
  });

  it('K_command runs an argv list without a shell and takes its trimmed stdout', async () => {
    const config = await load(
      s3(`      secret_access_key_command: ["printf", "  %s\\n", "cmd secret; $(not run)"]\n`),
      { env },
    );
    expect(config.destinations[0]!.config).toMatchObject({ secret_access_key: 'cmd secret; $(not run)' });
  });

  it('K_command as a string is split on spaces and runs in the config folder', async () => {
    const config = await load(s3('      secret_access_key_command: sh ./get-secret.sh  s3\n'), {
      env,
      files: { 'get-secret.sh': 'printf "script-secret-%s" "$1"\n' },
    });
    expect(config.destinations[0]!.config).toMatchObject({ secret_access_key: 'script-secret-s3' });
  });

  it('a value written directly under a secret key is a secret too', async () => {
    const config = await load(s3('      secret_access_key: ${AWS_SECRET}\n'), {
      env: { AWS_SECRET: 'env-secret' },
    });
    expect(config.secrets).toEqual(['env-secret']);
  });

  it('a missing secret file names the key and the file, at the key line', async () => {
    const error = await fail(s3('      secret_access_key_file: missing.key\n'));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      path: 'backup.destinations[offsite].secret_access_key_file',
      line: 6,
      column: 7,
    });
    expect(error.issues[0]!.message).toMatch(/^cannot read secret file .*missing\.key: no such file$/);
    expect(error.issues[0]!.message).toContain(join(error.file!, '..', 'missing.key'));
  });

  it('a failing command is an error with its exit code and stderr, never its stdout', async () => {
    const error = await fail(
      s3(
        `      secret_access_key_command: ["sh", "-c", "echo half-printed-secret; echo vault sealed >&2; exit 3"]\n`,
      ),
      { env },
    );
    expect(error.issues[0]).toMatchObject({
      path: 'backup.destinations[offsite].secret_access_key_command',
      line: 6,
      message: 'secret command sh exited with code 3: vault sealed',
    });
    expect(error.message).not.toContain('half-printed-secret');
  });

  it('a command that is not installed, or prints nothing, is an error', async () => {
    const missing = await fail(s3('      secret_access_key_command: [no-such-command-xyz]\n'), { env });
    expect(missing.issues[0]!.message).toBe(
      'secret command no-such-command-xyz was not found (is it installed and on PATH?)',
    );
    const silent = await fail(s3('      secret_access_key_command: ["true"]\n'), { env });
    expect(silent.issues[0]!.message).toBe('secret command true printed nothing');
  });

  it('refuses a secret given twice', async () => {
    const error = await fail(
      s3('      secret_access_key: direct-secret\n      secret_access_key_file: secret.key\n'),
    );
    expect(error.issues).toEqual([
      {
        path: 'backup.destinations[offsite].secret_access_key_file',
        line: 7,
        column: 7,
        message: 'set only one of secret_access_key, secret_access_key_file',
      },
    ]);
  });

  it('_file on a key that is not a secret key stays an unknown key', async () => {
    const error = await fail(s3('      bucket_file: x\n'));
    expect(error.issues[0]).toMatchObject({
      path: 'backup.destinations[offsite].bucket_file',
      message: 'unknown key "bucket_file"',
    });
  });

  it('resolves the smtp password and the webhook URL by reference too', async () => {
    const config = await load(
      `backup:
  notifications:
    webhook_url_command: [printf, "https://hooks.example/T0/secret-hook"]
    smtp:
      host: mail.example
      password_file: smtp.pass
  destinations:
    - {name: a, type: local, path: /a}
`,
      { env, files: { 'smtp.pass': 'smtp-secret\r\n' } },
    );
    expect(config.backup.notifications?.webhook_url).toBe('https://hooks.example/T0/secret-hook');
    expect(config.backup.notifications?.smtp?.password).toBe('smtp-secret');
    expect(config.secrets).toEqual(['https://hooks.example/T0/secret-hook', 'smtp-secret']);
  });

  it('never puts a secret value in an error message', async () => {
    // The failing command echoes the S3 secret on stderr: it must come out masked.
    const error = await fail(
      `backup:
  notifications:
    smtp:
      host: mail.example
      password_command: ["sh", "-c", "echo login failed for token-from-file-77 >&2; exit 1"]
  destinations:
    - name: offsite
      type: s3
      bucket: \${BUCKET}
      secret_access_key_file: s3.key
`,
      { env, files: { 's3.key': 'token-from-file-77\n' } },
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'backup.notifications.smtp.password_command',
      'backup.destinations[offsite].bucket',
    ]);
    expect(error.issues[0]!.message).toBe('secret command sh exited with code 1: login failed for ***');
    expect(error.message).not.toContain('token-from-file-77');
  });
});

describe('redact', () => {
  it('masks each secret, also URL-encoded and JSON-escaped, longest first', () => {
    const secrets = ['p@ss word', 'ab"c', 'p@ss'];
    expect(redact('user:p@ss word@host p%40ss%20word {"k":"ab\\"c"} p@ss', secrets)).toBe(
      'user:***@host *** {"k":"***"} ***',
    );
  });

  it('ignores empty secrets', () => {
    expect(redact('nothing here', ['', 'x-y-z'])).toBe('nothing here');
  });

  it('masks a weak secret only where it stands alone: ids, names, paths and file names stay intact', () => {
    const text =
      'run `matric-backup list`: backup_20261203_081023 in /var/backups/backup.yaml; password backup. user:backup@host "backup"';
    expect(redact(text, ['backup'])).toBe(
      'run `matric-backup list`: backup_20261203_081023 in /var/backups/backup.yaml; password ***. user:***@host "***"',
    );
  });

  it("a secret inside one of the config's own names is masked only as a whole word too", () => {
    const text = 'destination offsite-copy: password offsite';
    expect(redact(text, ['offsite'], ['offsite-copy'])).toBe('destination offsite-copy: password ***');
    expect(redact(text, ['offsite'])).toBe('destination ***-copy: password ***');
  });

  it('masks a strong secret wherever it occurs, also glued to other characters', () => {
    expect(redact('mysqldump -pXq9tLm2vR8 db', ['Xq9tLm2vR8'])).toBe('mysqldump -p*** db');
  });
});

describe('secretWeakness', () => {
  it("short, letterless, or part of the tool's words or this config's names is weak; a random one is not", () => {
    expect(secretWeakness('abc12')).toBe('short');
    expect(secretWeakness('20261203')).toBe('no-letters');
    expect(secretWeakness('backup')).toBe('vocabulary');
    expect(secretWeakness('Restore')).toBe('vocabulary');
    expect(secretWeakness('nightly', ['nightly-db'])).toBe('config');
    expect(secretWeakness('Xq9tLm2vR8', ['nightly-db'])).toBeUndefined();
  });
});

describe('maskMessages', () => {
  it('masks message fields only, never ids, keys, paths or names', () => {
    const mask = (text: string) => redact(text, ['backup']);
    const document = {
      id: 'backup_20261203_081023',
      archive: { key: 'backup_20261203_081023.tar.zst' },
      destinations: [
        { name: 'backup', path: '/srv/backup', error: { code: 'X', message: 'password backup' } },
      ],
      warnings: ['user backup locked', { path: '/srv/backup/a', reason: 'no backup' }],
      hint: 'try backup',
    };
    expect(maskMessages(document, mask)).toEqual({
      ...document,
      destinations: [{ name: 'backup', path: '/srv/backup', error: { code: 'X', message: 'password ***' } }],
      warnings: ['user *** locked', { path: '/srv/backup/a', reason: 'no ***' }],
      hint: 'try ***',
    });
  });
});

describe('weak secret warnings', () => {
  it('name the key and line, never the value', async () => {
    const config = await load(`backup:
  notifications:
    smtp: {host: mail, password: backup}
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(config.warnings).toEqual([
      expect.objectContaining({ path: 'backup.notifications.smtp.password', line: 3, column: 24 }),
    ]);
    expect(config.warnings![0]!.message).toMatch(/too weak to be masked safely/);
    const strong = await load(`backup:
  notifications:
    smtp: {host: mail, password: Xq9tLm2vR8}
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(strong.warnings).toEqual([]);
  });
});
