import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

const STACK_LINE = /^\s+at /m;

// A config error is the first thing a new user meets: it must name the file,
// the line and the key, exit 2, and never show a stack trace.
describe('config errors', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;

  beforeAll(async () => {
    work = await tempDir();
    await mkdir(join(work.path, 'data'));
    await writeFile(join(work.path, 'data/file.txt'), 'hello\n');
  });
  afterAll(() => work.cleanup());

  /** Line numbers in the cases below refer to this text (line 1 = `backup:`). */
  const validLines = () => [
    'backup:',
    `  state_dir: ${join(work.path, 'state')}`,
    '  sources:',
    '    - name: data',
    '      type: directory',
    '      path: ./data',
    '  destinations:',
    '    - name: disk',
    '      type: local',
    '      path: ./backups',
  ];

  async function configWith(edit: (lines: string[]) => string[]): Promise<string> {
    const file = join(work.path, `config-${++n}.yaml`);
    await writeFile(file, `${edit(validLines()).join('\n')}\n`);
    return file;
  }

  /** `run` is what a schedule calls, so that is where a config error must be clear. */
  async function expectConfigError(file: string, patterns: RegExp[], env: NodeJS.ProcessEnv = {}) {
    const result = await runCli(['run', '-c', file], { env });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: /);
    for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(STACK_LINE);
  }

  it('accepts the valid base config', async () => {
    const check = await runCli(['check', '-c', await configWith((lines) => lines)]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/ok\s+disk \(local\)/);
  });

  it('an unknown key: exit 2 naming the key and its line', async () => {
    const file = await configWith((lines) => [...lines, '  compresion:', '    algorithm: zstd']);
    await expectConfigError(file, [
      /config-\d+\.yaml:11:/,
      /backup\.compresion: unknown key "compresion"; did you mean "compression"\?/,
    ]);
  });

  it('a wrong type: exit 2 with the key path and line', async () => {
    const file = await configWith((lines) => [...lines, '  compression:', '    level: high']);
    await expectConfigError(file, [/config-\d+\.yaml:12:/, /backup\.compression\.level/]);
  });

  it('a missing required path: exit 2 with the key path and the line of its block', async () => {
    const file = await configWith((lines) => lines.slice(0, 9));
    // A list item is named by its name, not its index.
    await expectConfigError(file, [/config-\d+\.yaml:8:/, /backup\.destinations\[disk\]\.path/, /missing/]);
  });

  it('an unset environment variable: exit 2 naming the variable, the key path and the line', async () => {
    const file = await configWith((lines) => [
      ...lines.slice(0, 9),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${VAR} reference, as written in YAML
      '      path: ${MB_E2E_UNSET_VARIABLE}/backups',
    ]);
    await expectConfigError(file, [
      /config-\d+\.yaml:10:/,
      /MB_E2E_UNSET_VARIABLE/,
      /backup\.destinations\[disk\]\.path/,
    ]);
  });

  it('a retention policy that keeps nothing: exit 2 with the key path and line, like cleanup --keep 0', async () => {
    const file = await configWith((lines) => [...lines, '      retention:', '        keep_last: 0']);
    await expectConfigError(file, [
      /config-\d+\.yaml:12:/,
      /backup\.destinations\[disk\]\.retention\.keep_last/,
      /keeps no shard/,
    ]);
    const prune = await runCli(['prune', '-c', file]);
    expect(prune.code, prune.stderr).toBe(2);
    expect(prune.stderr).toMatch(/keeps no shard/);
  });

  it('a YAML syntax error: exit 2 with the line', async () => {
    const file = await configWith((lines) => [
      ...lines.slice(0, 5),
      '      path: [./data',
      ...lines.slice(6),
    ]);
    await expectConfigError(file, [/config-\d+\.yaml:\d+:/]);
  });

  it('an unknown destination type: exit 2 saying which package to install, or which type was meant', async () => {
    const file = await configWith((lines) => [...lines.slice(0, 8), '      type: webdav', lines[9]!]);
    await expectConfigError(file, [/matric-backup-plugin-webdav/]);
    const typo = await configWith((lines) => [...lines.slice(0, 8), '      type: lcoal', lines[9]!]);
    await expectConfigError(typo, [
      /backup\.destinations\[disk\]\.type: unknown destination type "lcoal"; did you mean "local"\?/,
      /^hint: write `type: local`/m,
    ]);
  });

  it('reports a secret from the environment without printing it', async () => {
    const secret = 'hunter2-very-secret-value';
    const file = await configWith((lines) => [
      ...lines,
      '  notifications:',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${VAR} reference, as written in YAML
      '    webhook_url: ${MB_E2E_WEBHOOK}',
      '    on_failure: maybe',
    ]);
    const result = await runCli(['check', '-c', file], {
      env: { MB_E2E_WEBHOOK: `https://hooks.example/${secret}` },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/backup\.notifications\.on_failure/);
    expect(result.stderr + result.stdout).not.toContain(secret);
  });
});

describe('usage errors', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(() => work.cleanup());

  it.each([
    [['lsit'], "unknown command 'lsit'; did you mean 'list'?"],
    [['run', '--jsn'], "unknown option '--jsn' for run; did you mean '--json'?"],
    [['restore'], 'restore needs <shard> (matric-backup restore <shard>)'],
    [['list', '-c'], 'option -c needs a value'],
    [['restore', 'latest'], null],
    [['verify', 'backup_20250101_000000', '--all'], 'options --all and --id cannot be used together'],
    [[], 'name a command: matric-backup <command>; the commands are run, list'],
  ])('%j exits 2 in our words, with a hint and no stack', async (args, message) => {
    const result = await runCli(args, { cwd: work.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: /);
    if (message) expect(result.stderr).toContain(`error: ${message}`);
    expect(result.stderr).toMatch(/^hint: /m);
    expect(result.stderr).not.toMatch(STACK_LINE);
    // yargs' own phrasing never reaches the user.
    expect(result.stderr).not.toMatch(
      /Unknown argument|non-option arguments|Not enough arguments|mutually exclusive/,
    );
  });

  it('without any config file: exit 2 listing the places tried', async () => {
    const result = await runCli(['run'], {
      cwd: work.path,
      env: { HOME: work.path, XDG_CONFIG_HOME: join(work.path, '.config'), MATRIC_BACKUP_CONFIG: '' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(work.path, 'backup.yaml'));
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('an unknown -d name: exit 2 listing the configured ones', async () => {
    const file = join(work.path, 'backup.yaml');
    await writeFile(
      file,
      `backup:\n  state_dir: ./state\n  destinations:\n    - {name: disk, type: local, path: ./backups}\n`,
    );
    const result = await runCli(['list', '-d', 'nope'], { cwd: work.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"nope"');
    expect(result.stderr).toContain('disk');
    const typo = await runCli(['list', '-d', 'dsik'], { cwd: work.path });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown destination "dsik" (did you mean "disk"?)');
  });

  it('every destination disabled: exit 2 for any command without -d; a named one is still read', async () => {
    const dir = join(work.path, 'all-off');
    await mkdir(dir);
    const file = join(dir, 'backup.yaml');
    await writeFile(
      file,
      `backup:\n  state_dir: ./state\n  destinations:\n    - {name: disk, type: local, path: ./backups, enabled: false}\n`,
    );
    for (const command of ['list', 'status', 'verify']) {
      const result = await runCli([command, '-c', file]);
      expect(result.code, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('enabled: false');
      expect(result.stderr).toMatch(/^hint: .*--destination/m);
    }
    const named = await runCli(['list', '-d', 'disk', '-c', file]);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toContain('no shards');
  });
});

describe('init and check', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(() => work.cleanup());

  it('init writes a config that check accepts, and refuses to overwrite it', async () => {
    const file = join(work.path, 'etc/backup.yaml');
    const init = await runCli(['init', file]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(file);
    const written = await readFile(file, 'utf8');
    expect(written).toMatch(/^# /);

    // The template backs up ./data: until that folder exists, check says so at its line.
    const before = await runCli(['check', '-c', file]);
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(
      /backup\.yaml:\d+:\d+: backup\.sources\[\w+\]\.path: source \S+: .*data does not exist/,
    );
    await mkdir(join(work.path, 'etc/data'));
    const check = await runCli(['check', '-c', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/config\s+.*valid/);

    await writeFile(file, `${written}# my edit\n`);
    const again = await runCli(['init', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(await readFile(file, 'utf8')).toContain('# my edit');

    const forced = await runCli(['init', file, '--force']);
    expect(forced.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(written);
  });

  it('init into a folder writes backup.yaml there, found by check without -c', async () => {
    const init = await runCli(['init', '.'], { cwd: work.path });
    expect(init.code).toBe(0);
    await mkdir(join(work.path, 'data'));
    const check = await runCli(['check', '--json'], { cwd: work.path });
    expect(check.code).toBe(0);
    const report = JSON.parse(check.stdout);
    expect(report.config).toBe(join(work.path, 'backup.yaml'));
    expect(report.destinations.map((d: { name: string; status: string }) => d.status)).toEqual(['ok']);
  });
});

describe('--help', () => {
  it('every command has --help with examples, exit 0', async () => {
    const commands = ['run', 'list', 'info', 'verify', 'restore', 'check', 'init', 'plugins'];
    const results = await Promise.all(commands.map((command) => runCli([command, '--help'])));
    for (const [index, result] of results.entries()) {
      const command = commands[index]!;
      expect(result.code, command).toBe(0);
      expect(result.stdout).toContain(`matric-backup ${command}`);
      expect(result.stdout, command).toMatch(/^Examples:\n {2}matric-backup /m);
      expect(result.stderr).toBe('');
      // The command's own options first, then the global ones.
      const own = result.stdout.indexOf('\nOptions:\n');
      const global = result.stdout.indexOf('\nGlobal options:\n');
      expect(global, command).toBeGreaterThan(own);
      expect(result.stdout.slice(global), command).toMatch(/^ {2}-c, --config/m);
      if (command !== 'plugins') expect(own, command).toBeGreaterThan(0);
    }
  });

  it('the top-level help lists every command and the exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['run', 'list', 'info', 'verify', 'restore', 'check', 'init', 'plugins']) {
      expect(result.stdout).toMatch(new RegExp(`matric-backup ${command}\\b`));
    }
    expect(result.stdout).toMatch(/^\s*4\s+locked/m);
  });

  it("completion prints a bash/zsh script; the shell gets commands and a command's options from it", async () => {
    const [script, options] = await Promise.all([
      runCli(['completion']),
      runCli(['--get-yargs-completions', 'matric-backup', 'restore', '--']),
    ]);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain(
      'complete -o bashdefault -o default -F _matric-backup_yargs_completions matric-backup',
    );
    expect(script.stdout).toContain('--get-yargs-completions');
    expect(options.code, options.stderr).toBe(0);
    expect(options.stderr).toBe('');
    expect(options.stdout.split('\n')).toEqual(
      expect.arrayContaining(['--to', '--in-place', '--destination']),
    );
  });

  it('the man page is the help of every command, as the built CLI prints it', async () => {
    const check = await promisify(execFile)(process.execPath, ['scripts/man-page.mjs', '--check'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    }).catch((error: { stderr: string; code: number }) => error);
    expect(check.stderr).toBe('');
  });

  it('plugins lists the built-in destination types', async () => {
    const result = await runCli(['plugins', '--json']);
    expect(result.code).toBe(0);
    const { plugins } = JSON.parse(result.stdout);
    expect(plugins.map((p: { type: string }) => p.type).sort()).toEqual(
      expect.arrayContaining(['local', 'rsync', 's3', 'sftp', 'smb']),
    );
  });
});
