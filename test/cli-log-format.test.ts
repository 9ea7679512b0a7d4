import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

const SECRET = 'Zq8-log-format-secret-9f3b';
const ID = /^backup_\d{8}_\d{6}_[a-z]{8}(_\d+)?$/;

/** Every line of stdout is one JSON object; returns them. */
function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('--log-format json', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  const config = (name: string, source: string) => [
    'backup:',
    `  state_dir: ${join(work.path, `state-${name}`)}`,
    '  sources:',
    `    - ${source}`,
    // A secret the run never sends anywhere (no notification is due): it must still never be printed.
    `  notifications: {on_failure: false, smtp: {host: 127.0.0.1, port: 1, password: ${SECRET}}}`,
    '  destinations:',
    `    - {name: disk, type: local, path: ${join(work.path, 'backups')}}`,
    '',
  ];

  beforeAll(async () => {
    work = await tempDir('mb-e2e-logs-');
    await mkdir(join(work.path, 'data'));
    await writeFile(join(work.path, 'data/file.txt'), 'hello\n');
    await writeFile(
      join(work.path, 'ok.yaml'),
      config('ok', '{name: data, type: directory, path: ./data}').join('\n'),
    );
    const dump = `echo 'FATAL: password ${SECRET} rejected' >&2; exit 1`;
    await writeFile(
      join(work.path, 'failing.yaml'),
      config('failing', `{name: db, type: command, command: [sh, -c, "${dump}"], filename: db.sql}`).join(
        '\n',
      ),
    );
  });
  afterAll(() => work.cleanup());

  it("run and restore log the design's events as JSON lines on stdout; a failure's message is masked, its id is not", async () => {
    const run = await runCli(['run', '--log-format', 'json', '-c', join(work.path, 'ok.yaml')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const events = records(run.stdout);
    expect(events.map((event) => `${event.level} ${event.message}`)).toEqual([
      'info backup created',
      'warn backup cleanup skipped',
    ]);
    expect(events[0]).toMatchObject({
      status: 'success',
      type: 'full',
      file_count: 1,
      service: 'matric-backup',
    });
    expect(events[0]!.backup_id).toMatch(ID);
    expect(events[1]).toMatchObject({ destination: 'disk', reason: 'no retention policy' });

    const target = join(work.path, 'restored');
    const restore = await runCli([
      'restore',
      'latest',
      '--to',
      target,
      '--log-format',
      'json',
      '-c',
      join(work.path, 'ok.yaml'),
    ]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(records(restore.stdout)).toMatchObject([
      { level: 'info', message: 'backup restored', backup_id: events[0]!.backup_id, target, file_count: 1 },
    ]);
    expect(await readFile(join(target, 'data/file.txt'), 'utf8')).toBe('hello\n');

    const failed = await runCli(['run', '--log-format', 'json', '-c', join(work.path, 'failing.yaml')]);
    expect(failed.code).toBe(1);
    const failure = records(failed.stdout).find((event) => event.message === 'backup creation failed');
    expect(failure).toMatchObject({ level: 'error', code: 'SOURCE_FAILED' });
    expect(failure!.backup_id).toMatch(ID);
    expect(failure!.error).toMatch(/password \*\*\* rejected/);
    for (const output of [run, restore, failed]) expect(output.stdout + output.stderr).not.toContain(SECRET);
  });
});
