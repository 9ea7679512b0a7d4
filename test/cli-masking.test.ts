import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

const ID = /^backup_\d{8}_\d{6}/;

// A secret that is also a word the tool prints (`backup`, the default id
// prefix): ids, keys and paths must come out intact wherever they are printed,
// and the secret must still never show where a message quotes it.
describe('masking a weak secret never rewrites data', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let failing: string;

  /** Any secret key will do: the SMTP password of the notifications is one, and needs no server here. */
  const lines = (state: string, sources: string[]) => [
    'backup:',
    `  state_dir: ${join(work.path, state)}`,
    '  sources:',
    ...sources,
    '  notifications:',
    '    smtp: {host: 127.0.0.1, port: 1, password: backup}',
    '  destinations:',
    `    - {name: disk, type: local, path: ${join(work.path, 'backups')}}`,
  ];

  beforeAll(async () => {
    work = await tempDir('mb-e2e-mask-');
    await mkdir(join(work.path, 'data'));
    await writeFile(join(work.path, 'data/file.txt'), 'hello\n');
    config = join(work.path, 'backup.yaml');
    await writeFile(
      config,
      `${lines('state', ['    - {name: data, type: directory, path: ./data}']).join('\n')}\n`,
    );
    failing = join(work.path, 'failing.yaml');
    const dump = `echo 'FATAL: password backup rejected' >&2; exit 1`;
    const source = `    - {name: db, type: command, command: [sh, -c, "${dump}"], filename: db.sql}`;
    await writeFile(failing, `${lines('state-failing', [source]).join('\n')}\n`);
  });
  afterAll(() => work.cleanup());

  it('check and run warn about the secret at its key and line, without printing it as a value', async () => {
    const check = await runCli(['check', '-c', config]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toMatch(
      /^warning: .*backup\.yaml:6:\d+: backup\.notifications\.smtp\.password: this secret is too weak to be masked safely/m,
    );
    expect(check.stderr).not.toMatch(/password: backup|\*\*\*/);
    const json = await runCli(['check', '--json', '-c', config]);
    expect(JSON.parse(json.stdout).warnings).toMatchObject([
      { code: 'WEAK_SECRET', key_path: 'backup.notifications.smtp.password', line: 6 },
    ]);
  });

  it('ids stay intact in run --json, list and history, human and --json, and can be fed back', async () => {
    const run = await runCli(['run', '--json', '-c', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/too weak to be masked safely/);
    const summary = JSON.parse(run.stdout);
    expect(summary.id).toMatch(ID);
    expect(summary.archive.key).toBe(`${summary.id}.tar.zst`);
    expect(run.stdout).not.toContain('***');

    const human = await runCli(['run', '-c', config]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^shard backup_\d{8}_\d{6}_[a-z]{8}(_\d+)? /m);
    for (const output of [human.stdout, human.stderr]) expect(output).not.toContain('***');

    const list = await runCli(['list', '--json', '-c', config]);
    const ids = JSON.parse(list.stdout).destinations[0].complete.map((shard: { id: string }) => shard.id);
    expect(ids).toContain(summary.id);
    const listText = await runCli(['list', '-c', config]);
    expect(listText.stdout).toContain(summary.id);

    const history = await runCli(['history', '--json', '-c', config]);
    const runs = JSON.parse(history.stdout).runs as Array<{ id: string }>;
    expect(runs.map((entry) => entry.id)).toContain(summary.id);
    const historyText = await runCli(['history', '-c', config]);
    expect(historyText.stdout).toContain(summary.id);
    for (const output of [list.stdout, listText.stdout, history.stdout, historyText.stdout]) {
      expect(output).not.toContain('***');
    }

    // The id printed is the id the tool accepts back.
    const info = await runCli(['info', summary.id, '--json', '-c', config]);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).manifest.id).toBe(summary.id);
  });

  it('a message quoting the secret shows *** in its place, human and --json', async () => {
    const human = await runCli(['run', '-c', failing]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('FATAL: password *** rejected');
    expect(human.stderr).not.toContain('password backup');
    expect(human.stdout).toMatch(/^shard backup_\d{8}_\d{6}_[a-z]{8}(_\d+)? /m);

    const json = await runCli(['run', '--json', '-c', failing]);
    const summary = JSON.parse(json.stdout);
    expect(summary.id).toMatch(ID);
    expect(summary.errors[0].message).toContain('FATAL: password *** rejected');
    expect(json.stdout).not.toContain('password backup');
  });
});
