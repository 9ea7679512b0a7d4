import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { expectDocument, schemaProblems } from './helpers/json-schema.js';

/**
 * Every --json document of the CLI, and the events of `run --json-lines`, checked against the
 * schemas published in docs/schemas/ (the documents of run, list, info, verify and restore are
 * also checked where the round trip makes them). One config, two runs, then each command once.
 */
describe('every --json document matches its published schema', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  const cli = (...args: string[]) => runCli([...args, '-c', config]);

  beforeAll(async () => {
    work = await tempDir('mb-json-contract-');
    await mkdir(join(work.path, 'data', 'sub'), { recursive: true });
    await writeFile(join(work.path, 'data', 'a.txt'), 'a\n');
    await writeFile(join(work.path, 'data', 'sub', 'b.txt'), 'b\n');
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: join(work.path, 'data') }],
      destinations: [
        { name: 'disk', type: 'local', path: join(work.path, 'disk'), retention: { keep_last: 1 } },
        { name: 'spare', type: 'local', path: join(work.path, 'spare'), required: false },
      ],
    });
  });
  afterAll(() => work.cleanup());

  it('run --json-lines, then each command: documents on one line, snake_case, schema_version 1', async () => {
    const check = await cli('check', '--json');
    expect(check.code, check.stderr).toBe(0);
    expectDocument('check', check.stdout);
    expectDocument('plugins', (await cli('plugins', '--json')).stdout);

    // The stream: every line an event of the schema, in the order things happen, the document last.
    const streamed = await cli('run', '--json-lines');
    expect(streamed.code, streamed.stderr).toBe(0);
    const events = streamed.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    for (const event of events)
      expect(schemaProblems('run-events', event), JSON.stringify(event)).toEqual([]);
    const names = events.map((event) => event.event);
    expect(names[0]).toBe('started');
    expect(names.at(-1)).toBe('finished');
    expect(names.indexOf('archive_finished')).toBeLessThan(names.indexOf('upload_started'));
    expect(names.filter((name) => name === 'upload_finished')).toHaveLength(2);
    expect(names).toContain('retention');
    const first = events.at(-1);
    expect(first).toMatchObject({ status: 'success', exit_code: 0, warnings: [], errors: [] });

    // keep_last 1 on disk: the second run deletes the first shard there.
    const second = await cli('run', '--json');
    expect(second.code, second.stderr).toBe(0);
    const run = expectDocument('run', second.stdout);
    expect(Object.keys(run)[0]).toBe('schema_version');
    expect(run.destinations.find((row: { name: string }) => row.name === 'disk').prune.deleted).toEqual([
      first.id,
    ]);
    const id: string = run.id;

    const status = expectDocument('status', (await cli('status', '--json', '--max-age', '1d')).stdout);
    expect(status.destinations[0]).toMatchObject({ name: 'disk', stale: false, age_ms: expect.any(Number) });
    expectDocument('list', (await cli('list', '--json')).stdout);
    expectDocument('info', (await cli('info', id, '--json')).stdout);
    expectDocument('verify', (await cli('verify', '--latest', '--json')).stdout);
    const verified = (await cli('verify', '--latest', '--json-lines')).stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    for (const event of verified)
      expect(schemaProblems('verify-events', event), JSON.stringify(event)).toEqual([]);
    expect(verified.map((event) => [event.event, event.destination])).toEqual([
      ['shard_verified', 'disk'],
      ['shard_verified', 'spare'],
      ['finished', undefined],
    ]);
    const restored = await cli('restore', id, '--to', join(work.path, 'restored'), '--json');
    expect(restored.code, restored.stderr).toBe(0);
    expectDocument('restore', restored.stdout);
    expectDocument('prune', (await cli('prune', '--dry-run', '--json')).stdout);
    expectDocument('prune', (await cli('cleanup', '--keep', '5', '--dry-run', '--json')).stdout);
    expectDocument('delete', (await cli('delete', id, '--dry-run', '--json')).stdout);
    const history = expectDocument('history', (await cli('history', '--json')).stdout);
    expect(history.runs.filter((entry: { kind: string }) => entry.kind === 'backup')).toHaveLength(2);
    const copied = await cli('copy', first.id, '--from', 'spare', '--to', 'disk', '--json');
    expect(copied.code, copied.stderr).toBe(0);
    expectDocument('copy', copied.stdout);
    // Looking inside a shard: ls, find, diff (the first run against the second) and dump.
    expectDocument('ls', (await cli('ls', id, '--json')).stdout);
    expectDocument('find', (await cli('find', 'data/sub/**', '--json')).stdout);
    expectDocument('diff', (await cli('diff', first.id, id, '-d', 'spare', '--json')).stdout);
    const dumped = await cli('dump', id, 'data/a.txt', '-o', join(work.path, 'a.txt'), '--json');
    expect(dumped.code, dumped.stderr).toBe(0);
    expectDocument('dump', dumped.stdout);
    const units = expectDocument('systemd', (await cli('systemd', '--daemon', '--json')).stdout);
    expect(units.units.map((unit: { file: string }) => unit.file)).toContain('matric-backup.service');
    const init = await runCli(['init', join(work.path, 'new.yaml'), '--json']);
    expect(init.code, init.stderr).toBe(0);
    expectDocument('init', init.stdout);
  });

  it('a failing command: one entry per config problem; with --json-lines as the finished event', async () => {
    const bad = join(work.path, 'bad.yaml');
    await writeFile(
      bad,
      [
        'backup:',
        '  sources:',
        '    - name: data',
        '      type: directory',
        `      path: ${join(work.path, 'data')}`,
        '  destinations:',
        '    - name: disk',
        '      type: local',
        '      pathx: /tmp/nowhere',
        '  retention: { keep_last: -1 }',
        '',
      ].join('\n'),
    );
    const failed = await runCli(['run', '-c', bad, '--json']);
    expect(failed.code).toBe(2);
    const document = expectDocument('failure', failed.stdout);
    expect(
      document.errors.map((entry: { key_path: string; line: number }) => [entry.key_path, entry.line]),
    ).toEqual([
      ['backup.destinations[disk].path', 7],
      ['backup.destinations[disk].pathx', 9],
      ['backup.retention.keep_last', 10],
    ]);
    const streamed = await runCli(['run', '-c', bad, '--json-lines']);
    const finished = JSON.parse(streamed.stdout);
    expect(schemaProblems('run-events', finished)).toEqual([]);
    expect(finished).toMatchObject({ event: 'finished', ok: false, exit_code: 2 });
  });

  it('the schemas are strict: a camelCase field, a missing version or a bare-string warning fails', () => {
    const run = {
      schema_version: 1,
      id: 'backup_20261203_081023_abcdefgh',
      status: 'success',
      exit_code: 0,
      dry_run: false,
      type: 'full',
      started_at: '2026-12-03T08:10:23.000Z',
      duration_ms: 5,
      destinations: [],
      warnings: [],
      errors: [],
    };
    expect(schemaProblems('run', run)).toEqual([]);
    expect(schemaProblems('run', { ...run, exitCode: 0 })).not.toEqual([]);
    expect(schemaProblems('run', { ...run, schema_version: undefined })).not.toEqual([]);
    expect(schemaProblems('run', { ...run, warnings: ['a file vanished'] })).not.toEqual([]);
    expect(
      schemaProblems('status', { schema_version: 1, ok: true, maxAgeMs: 1, destinations: [] }),
    ).not.toEqual([]);
  });
});
