import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, type CliResult, runCli, tempDir } from './helpers/cli.js';

const STACK_LINE = /^\s+at /m;

// `check`, `run --dry-run` (and, for encryption, `run`) find what a run would
// trip over before any source is read: each problem is a config error (exit 2)
// naming the file, line and key path.
describe('pre-flight checks', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let recipient: string;
  let n = 0;

  beforeAll(async () => {
    work = await tempDir('mb-e2e-preflight-');
    await chmod(work.path, 0o755);
    await mkdir(join(work.path, 'data'));
    await writeFile(join(work.path, 'data/file.txt'), 'hello\n');
    execFileSync('age-keygen', ['-o', join(work.path, 'age.key')], { stdio: 'ignore' });
    execFileSync('age-keygen', ['-o', join(work.path, 'other.key')], { stdio: 'ignore' });
    recipient = execFileSync('age-keygen', ['-y', join(work.path, 'age.key')], { encoding: 'utf8' }).trim();
  });
  afterAll(() => work.cleanup());

  /**
   * A config whose line 4 is the first source and line 7 the first
   * destination line, with `extra` lines appended under `backup:`.
   */
  async function configWith(sources: string[], extra: string[] = []): Promise<string> {
    const file = join(work.path, `config-${++n}.yaml`);
    const state = join(work.path, `state-${n}`);
    const lines = [
      'backup:',
      `  state_dir: ${state}`,
      '  sources:',
      ...sources,
      '  destinations:',
      `    - {name: disk, type: local, path: ${join(work.path, `backups-${n}`)}}`,
      ...extra,
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    return file;
  }

  const DATA = '    - {name: data, type: directory, path: ./data}';

  function expectConfigError(result: CliResult, patterns: RegExp[]): void {
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: /);
    for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(STACK_LINE);
  }

  it('a valid config with a command on PATH, a readable folder and a matching identity passes', async () => {
    const file = await configWith(
      [DATA, '    - {name: db, type: command, command: [echo, hi], filename: db.txt}'],
      ['  encryption:', `    {enabled: true, recipients: [${recipient}], identity_file: age.key}`],
    );
    const check = await runCli(['check', '-c', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const dry = await runCli(['run', '--dry-run', '-c', file]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would run \["echo","hi"\]/);
  });

  it('a missing source folder: check and run --dry-run exit 2 with its key path and line', async () => {
    const file = await configWith([DATA, '    - {name: gone, type: directory, path: ./no-such-folder}']);
    for (const args of [['check'], ['run', '--dry-run']]) {
      const result = await runCli([...args, '-c', file]);
      expectConfigError(result, [
        /config-\d+\.yaml:5:\d+: backup\.sources\[gone\]\.path: source gone: .*no-such-folder does not exist/,
      ]);
    }
  });

  it('a source folder this user cannot read: exit 2 naming it', async () => {
    const secret = join(work.path, 'root-only');
    await mkdir(secret, { mode: 0o700 });
    await writeFile(join(secret, 'f'), 'x');
    const file = await configWith([`    - {name: secret, type: directory, path: ${secret}}`]);
    await chmod(file, 0o644);
    // As root, the check runs as `nobody` (root reads everything); otherwise the folder is made unreadable.
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) await chmod(secret, 0o000);
    const result = asRoot ? await runAsNobody(['check', '-c', file]) : await runCli(['check', '-c', file]);
    if (!asRoot) await chmod(secret, 0o700);
    expectConfigError(result, [
      /config-\d+\.yaml:4:\d+: backup\.sources\[secret\]\.path: source secret: .*root-only is not readable by this user/,
    ]);
  });

  it('a command not on PATH: run --dry-run exits 2 instead of saying it would run it', async () => {
    const file = await configWith([
      DATA,
      '    - name: db',
      '      type: command',
      '      command: ["sqlite4", "app.db", ".dump"]',
      '      filename: app.sql',
    ]);
    const dry = await runCli(['run', '--dry-run', '-c', file]);
    expectConfigError(dry, [
      /config-\d+\.yaml:7:\d+: backup\.sources\[db\]\.command\[0\]: source db: command sqlite4 is not on PATH/,
    ]);
    expect(dry.stderr).not.toMatch(/would run/);
    expectConfigError(await runCli(['check', '-c', file]), [/command sqlite4 is not on PATH/]);
  });

  it('a mistyped age recipient: check, run --dry-run and run exit 2 before any source is read', async () => {
    const typo = `${recipient.slice(0, -1)}${recipient.endsWith('q') ? 'p' : 'q'}`;
    const marker = join(work.path, 'source-was-read');
    const file = await configWith(
      [
        DATA,
        '    - name: marker',
        '      type: command',
        `      command: [sh, -c, "touch ${marker}; echo x"]`,
        '      filename: x.txt',
      ],
      ['  encryption:', '    enabled: true', '    recipients:', `      - ${typo}`],
    );
    for (const args of [['check'], ['run', '--dry-run'], ['run']]) {
      const result = await runCli([...args, '-c', file]);
      expectConfigError(result, [
        /config-\d+\.yaml:14:\d+: backup\.encryption\.recipients\[0\]: age1\w+ is not a valid age recipient \(Invalid checksum\)/,
      ]);
    }
    const json = await runCli(['run', '--json', '-c', file]);
    expect(json.code).toBe(2);
    // One entry per problem, each with its key path and line.
    expect(JSON.parse(json.stdout).errors).toEqual([
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        key_path: 'backup.encryption.recipients[0]',
        line: 14,
      }),
    ]);
    // The command source never ran, nothing was spooled or stored.
    expect(await readdir(work.path)).not.toContain('source-was-read');
    expect(await readdir(work.path)).not.toContain(`backups-${n}`);
  });

  it('a bad line in a file of age recipients names the file and its line', async () => {
    await writeFile(join(work.path, 'recipients.txt'), `# team keys\n${recipient}\nage1notakey\n`);
    const file = await configWith(
      [DATA],
      ['  encryption:', '    enabled: true', '    recipients: [recipients.txt]'],
    );
    expectConfigError(await runCli(['check', '-c', file]), [
      /config-\d+\.yaml:9:\d+: backup\.encryption\.recipients\[0\]: recipient file .*recipients\.txt, line 3: not a valid age recipient/,
    ]);
  });

  it('an identity file that matches no recipient: exit 2 at identity_file', async () => {
    const file = await configWith(
      [DATA],
      [
        '  encryption:',
        '    enabled: true',
        `    recipients: [${recipient}]`,
        '    identity_file: other.key',
      ],
    );
    expectConfigError(await runCli(['check', '-c', file]), [
      /config-\d+\.yaml:10:\d+: backup\.encryption\.identity_file: the key in identity file .*other\.key matches none of backup\.encryption\.recipients/,
    ]);
    // A run does not need the identity: it still backs up.
    const run = await runCli(['run', '-c', file]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('a gpg recipient missing from the keyring: check and run exit 2 at that recipient', async () => {
    await mkdir(join(work.path, 'empty-gnupg'), { mode: 0o700 });
    const file = await configWith(
      [DATA],
      [
        '  encryption:',
        '    enabled: true',
        '    method: gpg',
        '    gpg_homedir: empty-gnupg',
        '    recipients:',
        '      - nobody@example.invalid',
      ],
    );
    for (const args of [['check'], ['run']]) {
      expectConfigError(await runCli([...args, '-c', file]), [
        /config-\d+\.yaml:12:\d+: backup\.encryption\.recipients\[0\]: gpg recipient nobody@example\.invalid is not in .*empty-gnupg/,
      ]);
    }
  });
});

/** The built CLI as the unprivileged user `nobody` (uid/gid 65534), for permission checks as root. */
function runAsNobody(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { uid: 65534, gid: 65534, env: { PATH: process.env.PATH, HOME: '/tmp', NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: unknown }).code as number) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}
