import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

// Hooks as an operator uses them: stop something before the run, start it again after, hear of
// errors, always clean up; and a destination's own hooks around its upload.
describe('hooks around a run and a destination', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let log: string;
  const TOKEN = 'H00K-S3CRET-77aa';
  const URL = `http://127.0.0.1:9/${TOKEN}`;

  beforeAll(async () => {
    work = await tempDir('mb-e2e-hooks-');
    log = join(work.path, 'hooks.log');
    await mkdir(join(work.path, 'notes'));
    await writeFile(join(work.path, 'notes', 'a.txt'), 'kept\n');
    // A regular file where a folder should be: the optional destination below it cannot be written.
    await writeFile(join(work.path, 'not-a-folder'), '');
    const note = (text: string) =>
      `echo "${text} $MATRIC_BACKUP_STATUS [$MATRIC_BACKUP_EXIT_CODE] [$MATRIC_BACKUP_RUN_ID] [$MATRIC_BACKUP_DESTINATIONS]" >> ${log}`;
    config = await writeConfig(work.path, {
      sources: [{ name: 'notes', type: 'directory', path: join(work.path, 'notes') }],
      destinations: [
        {
          name: 'disk',
          type: 'local',
          path: join(work.path, 'disk'),
          hooks: {
            before: [['sh', '-c', `echo "disk-before [$MATRIC_BACKUP_DESTINATION]" >> ${log}`]],
            after: [{ shell: `echo "disk-after $MATRIC_BACKUP_DESTINATION_STATUS" >> ${log}` }],
          },
        },
        { name: 'spare', type: 'local', required: false, path: join(work.path, 'not-a-folder', 'spare') },
      ],
      retry: { max_retries: 0 },
      // Its URL is a secret of the config: a hook that prints it has it masked in the log.
      notifications: { webhook_url: URL, on_failure: false },
      hooks: {
        before: [
          {
            shell: `${note('before')}; echo "stopping app, url ${URL}"; test ! -e ${join(work.path, 'refuse')} || exit 4`,
            timeout: '30s',
          },
        ],
        after: [['sh', '-c', note('after')]],
        on_error: [{ shell: `${note('on_error')}; echo "error code $MATRIC_BACKUP_ERROR_CODE" >> ${log}` }],
        finally: [
          {
            shell: `${note('finally')}; test ! -e ${join(work.path, 'fail-finally')} || { echo "cannot start app, url ${URL}" >&2; exit 3; }`,
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await work?.cleanup();
  });

  it('run: before, the destination hooks, after, finally, in order, with the outcome; output logged, masked', async () => {
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const id = JSON.parse(run.stdout).id as string;
    expect((await readFile(log, 'utf8')).split('\n')).toEqual([
      'before running [] [] []',
      'disk-before [disk]',
      'disk-after success',
      `after success [0] [${id}] [disk:success spare:failed]`,
      `finally success [0] [${id}] [disk:success spare:failed]`,
      '',
    ]);
    expect(run.stderr).toMatch(/^before hook \[.*\]: stopping app, url \*+$/m);
    expect(run.stderr).not.toContain(TOKEN);
  });

  it('a failing before hook: no archive, exit 1 with HOOK_FAILED; on_error and finally run; history has it', async () => {
    await rm(log);
    await writeFile(join(work.path, 'refuse'), '');
    const run = await runCli(['run', '-c', config]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /error: before hook \[.*\] exited with code 4; its last output:\nstopping app/,
    );
    expect(run.stderr).toContain('hint: nothing was backed up');
    expect((await readFile(log, 'utf8')).split('\n')).toEqual([
      'before running [] [] []',
      expect.stringMatching(/^on_error failed \[1\] \[backup_\w+\] \[disk:skipped spare:skipped\]$/),
      'error code HOOK_FAILED',
      expect.stringMatching(/^finally failed \[1\] /),
      '',
    ]);
    const history = await runCli(['history', '-c', config, '--json', '--limit', '1']);
    const [last] = JSON.parse(history.stdout).runs;
    expect(last).toMatchObject({ status: 'failed', exit_code: 1, error: { code: 'HOOK_FAILED' } });
    expect(last.error.message).not.toContain(TOKEN);
  });

  it('a failing finally hook: stored, exit 5, a HOOK_FAILED warning naming the hook, its command, exit code and output, in run --json and history', async () => {
    await rm(join(work.path, 'refuse'));
    await writeFile(join(work.path, 'fail-finally'), '');
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(5);
    const summary = JSON.parse(run.stdout);
    expect(summary.status).toBe('warning');
    const failed = summary.warnings.filter((found: { code: string }) => found.code === 'HOOK_FAILED');
    expect(failed).toEqual([
      {
        code: 'HOOK_FAILED',
        message: expect.stringMatching(
          /^finally hook \[.*\] exited with code 3; its last output:\ncannot start app/,
        ),
        hook: expect.stringMatching(/^finally hook \[/),
        command: expect.stringContaining('fail-finally'),
        exit_code: 3,
        output_tail: ['cannot start app, url ***'],
      },
    ]);
    expect(run.stdout).not.toContain(TOKEN);
    const history = await runCli(['history', '-c', config, '--json', '--limit', '1']);
    const [last] = JSON.parse(history.stdout).runs;
    expect(last).toMatchObject({ id: summary.id, status: 'warning', exit_code: 5, hook_failures: failed });
  });
});
