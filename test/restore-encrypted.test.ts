import { execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { diffTrees, generateTree, snapshotTree } from './helpers/tree.js';

const STACK_LINE = /^\s+at /m;

/** Runs a bash pipeline (pipefail), throwing with its stderr when it fails. */
function sh(script: string, cwd: string): void {
  execFileSync('bash', ['-o', 'pipefail', '-c', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// Encrypted shards end to end with the built CLI: age (keys made with
// age-keygen, recipients and identity given as files relative to the config)
// and gpg (a throwaway keyring in encryption.gpg_homedir). Interoperability
// both ways with the Debian CLIs: our shard decrypts with `age -d` / `gpg -d`
// and unpacks with `tar --zstd -x`, and a file the age CLI encrypted restores.
describe('encrypted shards', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;

  beforeAll(async () => {
    work = await tempDir('mb-e2e-crypto-');
    source = join(work.path, 'source');
    await generateTree(source, { bigFileBytes: 3 * 1024 * 1024, smallFiles: 200 });
  });
  afterAll(() => work.cleanup());

  describe('age', () => {
    let dir: string;
    let config: string;
    let id: string;
    let stored: string;
    let recipient: string;

    beforeAll(async () => {
      dir = join(work.path, 'age');
      await mkdir(join(dir, 'keys'), { recursive: true });
      execFileSync('age-keygen', ['-o', join(dir, 'keys/age.key')], { stdio: 'ignore' });
      execFileSync('age-keygen', ['-o', join(dir, 'keys/wrong.key')], { stdio: 'ignore' });
      recipient = execFileSync('age-keygen', ['-y', join(dir, 'keys/age.key')], { encoding: 'utf8' }).trim();
      await writeFile(join(dir, 'keys/recipients.txt'), `# the backup key\n${recipient}\n`);
      const backup = {
        sources: [{ name: 'data', type: 'directory' as const, path: source }],
        destinations: [{ name: 'disk', type: 'local', path: join(dir, 'backups') }],
      };
      // Relative to the config file, whatever the current folder.
      const encryption = { enabled: true, method: 'age', recipients: ['keys/recipients.txt'] };
      config = await writeConfig(dir, {
        ...backup,
        encryption: { ...encryption, identity_file: 'keys/age.key' },
      });
      await writeConfig(dir, { ...backup, encryption }, 'no-identity.yaml');

      const run = await runCli(['run', '-c', config, '--json'], { cwd: work.path });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout);
      id = summary.id;
      expect(summary.archive.key).toBe(`${id}.tar.zst.age`);
      expect(summary.manifest.encryption).toEqual({ method: 'age', recipient_count: 1 });
      stored = join(dir, 'backups', summary.archive.key);
    });

    it('our shard decrypts with `age -d -i KEY` and unpacks with `tar --zstd -x`', async () => {
      const out = join(dir, 'by-age-cli');
      await mkdir(out);
      sh(`age -d -i keys/age.key '${stored}' | tar --zstd -xpf - -C '${out}'`, dir);
      expect(await diffTrees(source, join(out, 'data'))).toEqual([]);
      expect(await readdir(out)).toContain('manifest.json');
    });

    it('verify decrypts with the identity file and checks every file', async () => {
      const verify = await runCli(['verify', id, '-c', config]);
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(new RegExp(`^ok\\s+disk\\s+${id}\\s+20[0-9] files`, 'm'));
    });

    it('verify without an identity checks the stored sha256 and size, and says the contents were not', async () => {
      const verify = await runCli(['verify', id, '-c', join(dir, 'no-identity.yaml')]);
      expect(verify.code).toBe(0);
      expect(verify.stderr).toMatch(
        /^warning: destination "disk" shard "[^"]+": contents not checked: the shard is encrypted \(age\) and no identity was given/m,
      );
    });

    it('a wrong identity: a clear DECRYPT_FAILED, exit 1, no stack, the target unchanged', async () => {
      const verify = await runCli(['verify', id, '-c', config, '--identity', join(dir, 'keys/wrong.key')]);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toContain(
        "DECRYPT_FAILED: age decryption failed: no identity matched any of the file's recipients",
      );
      expect(verify.stderr).toMatch(/^hint: .*identity/m);
      expect(verify.stderr).not.toMatch(STACK_LINE);

      const target = join(dir, 'populated');
      await mkdir(target);
      await writeFile(join(target, 'mine.txt'), 'mine\n');
      const before = await snapshotTree(target);
      const restore = await runCli(
        [
          'restore',
          id,
          '--to',
          target,
          '--conflict',
          'overwrite',
          '--identity',
          'keys/wrong.key',
          '-c',
          config,
        ],
        { cwd: dir },
      );
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(/^error: age decryption failed: no identity matched/m);
      expect(restore.stderr).toMatch(/^hint: /m);
      expect(restore.stderr).not.toMatch(STACK_LINE);
      expect(await snapshotTree(target)).toEqual(before);
    });

    it('restore decrypts with backup.encryption.identity_file and gives back the same tree', async () => {
      const target = join(dir, 'restored');
      const restore = await runCli(['restore', 'latest', '--to', target, '-c', config]);
      expect(restore.stderr).toBe('');
      expect(restore.code).toBe(0);
      expect(await diffTrees(source, join(target, 'data'))).toEqual([]);
    });

    it('a file the age CLI encrypted restores with --identity (no sidecar, no config)', async () => {
      const loose = join(dir, 'loose');
      await mkdir(loose);
      sh(`age -d -i keys/age.key '${stored}' | age -r ${recipient} -o loose/copy.tar.zst.age`, dir);
      const target = join(dir, 'from-age-cli');
      const restore = await runCli(
        ['restore', 'copy.tar.zst.age', '--to', target, '--identity', '../keys/age.key'],
        { cwd: loose },
      );
      expect(restore.code).toBe(0);
      expect(restore.stderr).toMatch(/^warning: no sidecar manifest beside/m);
      expect(await diffTrees(source, join(target, 'data'))).toEqual([]);
    });
  });

  describe('gpg', () => {
    let dir: string;
    let home: string;
    let config: string;
    let stored: string;

    beforeAll(async () => {
      dir = join(work.path, 'gpg');
      home = join(dir, 'gnupg');
      await mkdir(home, { recursive: true, mode: 0o700 });
      execFileSync(
        'gpg',
        [
          '--homedir',
          home,
          '--batch',
          '--passphrase',
          '',
          '--quick-gen-key',
          'T <t@example.com>',
          'default',
          'default',
          'never',
        ],
        { stdio: 'ignore' },
      );
      config = await writeConfig(dir, {
        sources: [{ name: 'data', type: 'directory', path: source }],
        destinations: [{ name: 'disk', type: 'local', path: join(dir, 'backups') }],
        encryption: { enabled: true, method: 'gpg', recipients: ['t@example.com'], gpg_homedir: 'gnupg' },
      });
      const run = await runCli(['run', '-c', config, '--json'], { cwd: work.path });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary.archive.key).toBe(`${summary.id}.tar.zst.gpg`);
      stored = join(dir, 'backups', summary.archive.key);
    });
    afterAll(() => {
      try {
        execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
      } catch {
        // No agent was left running.
      }
    });

    it('our shard decrypts with `gpg -d` and unpacks with `tar --zstd -x`', async () => {
      const out = join(dir, 'by-gpg-cli');
      await mkdir(out);
      sh(`gpg --homedir gnupg --batch --quiet -d '${stored}' | tar --zstd -xpf - -C '${out}'`, dir);
      expect(await diffTrees(source, join(out, 'data'))).toEqual([]);
    });

    it('verify and restore decrypt with the keyring in encryption.gpg_homedir', async () => {
      const verify = await runCli(['verify', '--latest', '-c', config]);
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
      const target = join(dir, 'restored');
      const restore = await runCli(['restore', 'latest', '--to', target, '-c', config, '--json']);
      expect(restore.code).toBe(0);
      expect(JSON.parse(restore.stdout)).toMatchObject({ to: target, symlinks: 2 });
      expect(await diffTrees(source, join(target, 'data'))).toEqual([]);
    });
  });
});
