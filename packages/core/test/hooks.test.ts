import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hookEnv } from '../src/hooks/env.js';
import { runHook } from '../src/hooks/run-hook.js';
import { runHooks } from '../src/hooks/run-hooks.js';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

const newDir = tempDirs();
const { load, fail } = loaderIn(newDir);

describe('backup.hooks and a destination block hooks: the config', () => {
  it('argv lists, {command}, {shell}: one shape each, folders resolved, timeouts in ms', async () => {
    const config = await load(`backup:
  hooks:
    before:
      - [systemctl, stop, app]
      - {command: [pg_ctl, "stop now"], timeout: 30s, cwd: sub}
    after:
      - {shell: 'systemctl start app && echo started'}
  destinations:
    - name: a
      type: local
      path: /a
      hooks:
        before: [[mount, /mnt/nas]]
`);
    const hooks = config.backup.hooks!;
    expect(hooks.before).toEqual([
      {
        command: ['systemctl', 'stop', 'app'],
        label: 'systemctl stop app',
        cwd: config.dir,
        timeoutMs: 300_000,
      },
      {
        command: ['pg_ctl', 'stop now'],
        label: 'pg_ctl "stop now"',
        cwd: join(config.dir, 'sub'),
        timeoutMs: 30_000,
      },
    ]);
    expect(hooks.after).toEqual([
      {
        command: ['/bin/sh', '-c', 'systemctl start app && echo started'],
        label: 'systemctl start app && echo started',
        cwd: config.dir,
        timeoutMs: 300_000,
      },
    ]);
    expect(hooks.on_error).toEqual([]);
    expect(hooks.finally).toEqual([]);
    expect(config.destinations[0]!.hooks?.before.map((hook) => hook.command)).toEqual([
      ['mount', '/mnt/nas'],
    ]);
    expect(config.destinations[0]!.hooks?.after).toEqual([]);
  });

  it('a bare string, an empty argv, an unknown moment: each at its key path', async () => {
    const error = await fail(`backup:
  hooks:
    before:
      - systemctl stop app
      - []
    afterwards: []
  destinations:
    - name: a
      type: local
      path: /a
      hooks:
        on_error: []
`);
    const issues = error.issues.map(({ path, message }) => ({ path, message }));
    expect(issues).toContainEqual({
      path: 'backup.hooks.before[0]',
      message: expect.stringContaining('{shell: "..."} to run it through /bin/sh'),
    });
    expect(issues.find((issue) => issue.path.startsWith('backup.hooks.before[1]'))).toBeDefined();
    expect(issues).toContainEqual({ path: 'backup.hooks.afterwards', message: 'unknown key "afterwards"' });
    expect(issues).toContainEqual({
      path: 'backup.destinations[a].hooks.on_error',
      message: 'unknown key "on_error"',
    });
  });
});

describe('hook environment', () => {
  const config = { file: '/etc/mb/backup.yaml', name: 'web', sourceInstance: 'host1' };

  it('says the outcome, exit code and each destination; every variable set, secrets masked', () => {
    const env = hookEnv(
      {
        when: 'after',
        config,
        runId: 'backup_20260101_020000_abcdefgh',
        status: 'partial',
        exitCode: 3,
        error: { code: 'AUTH_FAILED', message: 'bad key s3cr3t-value' },
        destinations: [
          { name: 'local', status: 'success' },
          { name: 's3', status: 'failed', error: { code: 'AUTH_FAILED' } },
        ],
      },
      ['s3cr3t-value'],
    );
    expect(env).toEqual({
      MATRIC_BACKUP_HOOK: 'after',
      MATRIC_BACKUP_CONFIG: '/etc/mb/backup.yaml',
      MATRIC_BACKUP_NAME: 'web',
      MATRIC_BACKUP_SOURCE_INSTANCE: 'host1',
      MATRIC_BACKUP_RUN_ID: 'backup_20260101_020000_abcdefgh',
      MATRIC_BACKUP_STATUS: 'partial',
      MATRIC_BACKUP_EXIT_CODE: '3',
      MATRIC_BACKUP_ERROR_CODE: 'AUTH_FAILED',
      MATRIC_BACKUP_ERROR: expect.not.stringContaining('s3cr3t-value'),
      MATRIC_BACKUP_DESTINATIONS: 'local:success s3:failed',
      MATRIC_BACKUP_DESTINATIONS_JSON: JSON.stringify([
        { name: 'local', status: 'success', error_code: null },
        { name: 's3', status: 'failed', error_code: 'AUTH_FAILED' },
      ]),
      MATRIC_BACKUP_DESTINATION: '',
      MATRIC_BACKUP_DESTINATION_STATUS: '',
    });
    expect(env.MATRIC_BACKUP_ERROR).toContain('bad key');
  });

  it('before the run: running, no id or exit code yet; a destination hook names its destination', () => {
    const env = hookEnv(
      { when: 'before', config, status: 'running', destinations: [], destination: { name: 'nas' } },
      [],
    );
    expect(env).toMatchObject({
      MATRIC_BACKUP_STATUS: 'running',
      MATRIC_BACKUP_RUN_ID: '',
      MATRIC_BACKUP_EXIT_CODE: '',
      MATRIC_BACKUP_DESTINATION: 'nas',
      MATRIC_BACKUP_DESTINATIONS: '',
    });
  });
});

describe('running hooks', () => {
  const hook = (command: string[], timeoutMs = 60_000) => ({
    command,
    label: command.join(' '),
    cwd: '/',
    timeoutMs,
  });
  const state = {
    config: { file: '/c.yaml', name: 'c', sourceInstance: 'h' },
    status: 'running' as const,
    destinations: [],
  };

  it('passes the variables, streams lines masked, and reports an exit code', async () => {
    const lines: string[] = [];
    const outcome = await runHook(
      hook(['sh', '-c', 'echo "$MATRIC_BACKUP_NAME pw=hunter22"; echo oops >&2; exit 7']),
      { MATRIC_BACKUP_NAME: 'c' },
      { secrets: ['hunter22'], onLine: (line) => lines.push(line) },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.exitCode).toBe(7);
    expect(outcome.reason).toBe('exited with code 7');
    expect(lines.sort()).toEqual(['c pw=***', 'oops'].sort());
    expect(lines.join('\n')).not.toContain('hunter22');
  });

  it('a hook past its timeout is stopped; one that is not installed says so', async () => {
    const slow = await runHook(hook(['sleep', '30'], 200), {}, { secrets: [] });
    expect(slow).toMatchObject({ ok: false, reason: 'was still running after 0.2 s and was stopped' });
    const missing = await runHook(hook(['no-such-program-mb']), {}, { secrets: [] });
    expect(missing).toMatchObject({ ok: false, exitCode: null });
    expect(missing.reason).toContain('not found');
  });

  it('before: the first failure throws HOOK_FAILED and the rest do not run; after: all run, failures listed', async () => {
    const dir = await newDir();
    const log = join(dir, 'log');
    const write = (text: string, code = 0) => hook(['sh', '-c', `echo ${text} >> ${log}; exit ${code}`]);
    await expect(
      runHooks(
        [write('one'), write('two', 2), write('three')],
        { ...state, when: 'before' },
        { secrets: [] },
      ),
    ).rejects.toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('exited with code 2') });
    expect(await readFile(log, 'utf8')).toBe('one\ntwo\n');
    const failures = await runHooks(
      [write('four', 1), hook(['sh', '-c', 'kill -KILL $$']), write('five')],
      { ...state, when: 'finally', status: 'success' },
      { secrets: [] },
    );
    expect(failures).toEqual([
      {
        code: 'HOOK_FAILED',
        message: expect.stringContaining('finally hook [sh -c'),
        hook: expect.stringMatching(/^finally hook \[sh -c /),
        command: expect.stringMatching(/^sh -c .*echo four/),
        exit_code: 1,
        output_tail: [],
      },
      {
        code: 'HOOK_FAILED',
        message: expect.stringContaining('was killed by SIGKILL'),
        hook: expect.stringMatching(/^finally hook \[sh -c .*kill -KILL/),
        command: expect.stringContaining('kill -KILL $$'),
        signal: 'SIGKILL',
        output_tail: [],
      },
    ]);
    expect(await readFile(log, 'utf8')).toBe('one\ntwo\nfour\nfive\n');
  });
});
