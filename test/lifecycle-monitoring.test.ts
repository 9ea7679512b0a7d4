import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, writeConfig } from './helpers/config.js';

// What an operator watches: webhook notifications (a real HTTP server started
// here), the Prometheus textfile, `status` as a monitoring check, and `history`.
describe('notifications, metrics, status and history', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let hooks: Server;
  let hookUrl: string;
  const received: Array<{ path: string; contentType?: string; body: Record<string, unknown> }> = [];
  const TOKEN = 'T0KEN-4f9c2a';

  const disk = (): DestinationSpec => ({ name: 'disk', type: 'local', path: join(work.path, 'disk') });
  const configWith = (
    name: string,
    destinations: DestinationSpec[],
    notifications: Record<string, unknown>,
  ) =>
    writeConfig(
      work.path,
      {
        sources: [{ name: 'notes', type: 'directory', path: join(work.path, 'notes') }],
        destinations,
        notifications,
        retry: { max_retries: 0 },
      },
      name,
    );

  beforeAll(async () => {
    work = await tempDir('mb-e2e-monitor-');
    const notes = join(work.path, 'notes');
    await mkdir(notes);
    await writeFile(join(notes, 'a.txt'), 'watched\n');
    // A regular file where a folder should be: the destination below it cannot be written.
    await writeFile(join(work.path, 'not-a-folder'), '');
    hooks = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        received.push({
          path: request.url ?? '',
          contentType: request.headers['content-type'],
          body: JSON.parse(text),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks/${TOKEN}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => hooks?.close(resolve));
    await work?.cleanup();
  });

  describe('a healthy config', () => {
    let config: string;
    let shardId: string;
    let createdAt: number;

    beforeAll(async () => {
      config = await configWith('healthy.yaml', [disk()], { webhook_url: hookUrl });
    });

    it('run --metrics-file writes the Prometheus textfile; a success sends nothing by default', async () => {
      const metrics = join(work.path, 'metrics', 'matric_backup.prom');
      await mkdir(join(work.path, 'metrics'));
      const run = await runCli(['run', '-c', config, '--json', '--metrics-file', metrics]);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      shardId = summary.id;
      createdAt = Date.parse(summary.manifest.created_at);
      expect(received).toEqual([]);

      const text = await readFile(metrics, 'utf8');
      expect(text).toContain('# TYPE matric_backup_last_success_timestamp_seconds gauge');
      // Every series is labelled with the config's identity, so two configs' files never collide.
      const identity = `config="${summary.manifest.writer.name}",source_instance="${summary.manifest.source_instance}"`;
      const value = (name: string) =>
        Number(new RegExp(`^${name}\\{(?:destination="disk",)?${identity}\\} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('matric_backup_last_run_success')).toBe(1);
      expect(value('matric_backup_last_success_timestamp_seconds')).toBeCloseTo(Date.now() / 1000, -2);
      expect(value('matric_backup_shard_bytes')).toBe(summary.destinations[0].bytes);
      expect(value('matric_backup_upload_attempts')).toBe(1);
      expect(value('matric_backup_upload_failed')).toBe(0);
      expect(value('matric_backup_last_run_incremental')).toBe(0);
    });

    it('status --max-age 1h --json passes with the newest shard, its age, count and size', async () => {
      const result = await runCli(['status', '--max-age', '1h', '--json', '-c', config]);
      expect(result.code, result.stderr).toBe(0);
      const status = JSON.parse(result.stdout);
      expect(status).toMatchObject({ schema_version: 1, ok: true, max_age_ms: 3_600_000 });
      expect(status.destinations).toEqual([
        expect.objectContaining({
          name: 'disk',
          newest: {
            id: shardId,
            created_at: new Date(createdAt).toISOString(),
            type: 'full',
            size: expect.any(Number),
          },
          count: 1,
          bytes: expect.any(Number),
          stale: false,
          age_ms: expect.any(Number),
        }),
      ]);
    });

    it('status --max-age 1 (bare seconds) fails (exit 1) once the newest shard is older', async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, createdAt + 1500 - Date.now())));
      const result = await runCli(['status', '--max-age', '1', '-c', config]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`^disk\\s+${shardId}\\s.*STALE \\(older than 1s\\)$`, 'm'));
    });
  });

  it('a partial run POSTs the per-destination results to the webhook, without the token', async () => {
    const config = await configWith(
      'partial.yaml',
      [disk(), { name: 'broken', type: 'local', path: join(work.path, 'not-a-folder', 'backups') }],
      { webhook_url: hookUrl },
    );
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(3);
    const summary = JSON.parse(run.stdout);

    expect(received).toHaveLength(1);
    const [hook] = received;
    expect(hook!.contentType).toBe('application/json');
    expect(hook!.body).toMatchObject({
      event: 'backup.partial',
      status: 'partial',
      shard_id: summary.id,
      size_bytes: summary.archive.size,
      shard_type: 'full',
      destinations: [
        { name: 'disk', status: 'success', attempts: 1 },
        { name: 'broken', status: 'failed', error: { code: expect.any(String) } },
      ],
    });
    expect(String(hook!.body.text)).toContain('PARTIALLY FAILED');
    expect(JSON.stringify(hook!.body)).not.toContain(TOKEN);

    const history = await runCli(['history', '--json', '-c', config]);
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout).runs).toEqual([
      expect.objectContaining({
        id: summary.id,
        status: 'partial',
        type: 'full',
        bytes: summary.archive.size,
        exit_code: 3,
        destinations: [
          expect.objectContaining({
            name: 'disk',
            status: 'success',
            bytes: summary.destinations[0].bytes,
            attempts: 1,
          }),
          expect.objectContaining({
            name: 'broken',
            status: 'failed',
            error: {
              code: summary.destinations[1].error.code,
              message: summary.destinations[1].error.message,
            },
          }),
        ],
      }),
    ]);

    // The CLI writes the run's audit line, with the exit code it exited with.
    const audit = (await readFile(join(work.path, 'state', 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit.filter((line) => line.shard === summary.id)).toEqual([
      expect.objectContaining({
        action: 'run',
        result: 'partial',
        destinations: ['disk', 'broken'],
        details: expect.objectContaining({ exit_code: 3, stored_on: ['disk'] }),
      }),
    ]);
  });

  it('a webhook that cannot be reached is a warning; the run still exits 0', async () => {
    const closed = await freePort();
    const config = await configWith('deadhook.yaml', [disk()], {
      on_success: true,
      webhook_url: `http://127.0.0.1:${closed}/hooks/${TOKEN}`,
    });
    const run = await runCli(['run', '-c', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('warning: notification by webhook failed');
    expect(run.stderr).not.toContain(TOKEN);
  });
});
