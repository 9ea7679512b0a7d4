import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// A monitor as an operator sets one up: healthchecks-style pings, a webhook with its own method,
// headers and retries, ntfy; all received by a real HTTP server here. A run refused by the lock and
// a run stopped by SIGTERM are heard of and recorded too.
describe('pings, webhooks and ntfy around runs', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let server: Server;
  let config: string;
  const received: Received[] = [];
  let failNextWebhook = true;
  const WEBHOOK_TOKEN = 'WH-T0KEN-9d8e7f';

  const wait = async (what: () => boolean | Promise<boolean>, label: string) => {
    for (let i = 0; i < 600; i++) {
      if (await what()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${label}`);
  };
  const take = () => received.splice(0);
  const events = (list: Received[]) =>
    list.filter((entry) => entry.path === '/webhook').map((entry) => JSON.parse(entry.body).event);

  beforeAll(async () => {
    work = await tempDir('mb-e2e-pings-');
    await mkdir(join(work.path, 'notes'));
    await writeFile(join(work.path, 'notes', 'a.txt'), 'watched\n');
    await writeFile(join(work.path, 'not-a-folder'), '');
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body,
        });
        if (request.url === '/webhook' && failNextWebhook) {
          failNextWebhook = false;
          response.writeHead(500).end();
        } else response.writeHead(200).end('OK');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const started = join(work.path, 'started');
    config = await writeConfig(work.path, {
      sources: [{ name: 'notes', type: 'directory', path: join(work.path, 'notes') }],
      destinations: [
        { name: 'disk', type: 'local', path: join(work.path, 'disk') },
        { name: 'spare', type: 'local', required: false, path: join(work.path, 'not-a-folder', 'spare') },
      ],
      retry: { max_retries: 0 },
      hooks: {
        before: [{ shell: `echo preparing; test -z "$SLOW" || { touch ${started}; sleep 60; }` }],
        finally: [
          {
            shell: `echo "$MATRIC_BACKUP_STATUS $MATRIC_BACKUP_ERROR_CODE [$MATRIC_BACKUP_EXIT_CODE]" > ${join(work.path, 'finally')}`,
          },
        ],
      },
      notifications: {
        on_success: true,
        healthchecks: { url: `${base}/hc/check-1` },
        webhooks: [
          {
            url: `${base}/webhook`,
            method: 'PUT',
            headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'X-Team': 'ops' },
            retries: 1,
          },
        ],
        ntfy: { url: `${base}/ntfy/backups`, tags: ['backup'] },
      },
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await work?.cleanup();
  });

  it('a run: start and success pings with the log tail; the webhook retried after a 500; ntfy; a failed optional destination is backup.warning', async () => {
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const got = take();
    const paths = got.map((entry) => `${entry.method} ${entry.path}`);
    expect(paths[0]).toBe('POST /hc/check-1/start');
    expect(paths.filter((path) => path !== 'POST /hc/check-1/start').sort()).toEqual(
      ['POST /hc/check-1', 'POST /ntfy/backups', 'PUT /webhook', 'PUT /webhook'].sort(),
    );
    const success = got.find((entry) => entry.path === '/hc/check-1')!;
    expect(success.body).toContain('completed with warnings');
    expect(success.body).toContain('before hook [echo preparing; ');
    expect(success.body).toMatch(/warning: optional destination spare failed/);
    const hooks = got.filter((entry) => entry.path === '/webhook');
    for (const hook of hooks) {
      expect(hook.headers.authorization).toBe(`Bearer ${WEBHOOK_TOKEN}`);
      expect(hook.headers['x-team']).toBe('ops');
      expect(hook.headers['content-type']).toBe('application/json');
    }
    expect(events(got)).toEqual(['backup.warning', 'backup.warning']);
    const ntfy = got.find((entry) => entry.path === '/ntfy/backups')!;
    expect(ntfy.headers.title).toMatch(/backup\.warning$/);
    expect(ntfy.headers.tags).toContain('backup');
    expect(ntfy.body).toContain('spare');
    expect(run.stderr).not.toContain(WEBHOOK_TOKEN);
  });

  it('verify and prune send their events and write their own metrics, labelled by config', async () => {
    const verifyMetrics = join(work.path, 'verify.prom');
    const verify = await runCli(['verify', '-c', config, '-d', 'disk', '--metrics-file', verifyMetrics]);
    expect(verify.code, verify.stderr).toBe(0);
    const pruneMetrics = join(work.path, 'prune.prom');
    const prune = await runCli(['prune', '-c', config, '--metrics-file', pruneMetrics]);
    expect(prune.code, prune.stderr).toBe(0);
    const got = take();
    expect(events(got)).toEqual(['verify.success', 'prune.success']);
    // Only runs ping the check.
    expect(got.filter((entry) => entry.path.startsWith('/hc/'))).toEqual([]);
    const labels = /\{config="[^"]+",source_instance="[^"]+"\}/.source;
    expect(await readFile(verifyMetrics, 'utf8')).toMatch(
      new RegExp(`^matric_backup_last_verify_success${labels} 1$`, 'm'),
    );
    expect(await readFile(pruneMetrics, 'utf8')).toMatch(
      /^matric_backup_last_prune_deleted_shards\{destination="disk",config="[^"]+",source_instance="[^"]+"\} 0$/m,
    );
  });

  it('a verify that finds damage is a verify.failure naming the shard, in history, and fails status until a verify passes', async () => {
    const disk = join(work.path, 'disk');
    const archive = (await readdir(disk)).find((name) => /\.tar\.zst$/.test(name))!;
    const shard = archive.replace(/\.tar\.zst$/, '');
    const bytes = await readFile(join(disk, archive));
    const damaged = Buffer.from(bytes);
    damaged[damaged.length >> 1] ^= 0xff;
    await writeFile(join(disk, archive), damaged);

    const verify = await runCli(['verify', '-c', config, '-d', 'disk']);
    expect(verify.code).toBe(1);
    const heard = take();
    const failure = JSON.parse(heard.find((entry) => entry.path === '/webhook')!.body);
    expect(failure).toMatchObject({
      event: 'verify.failure',
      operation: 'verify',
      status: 'failed',
      shards: [shard],
      destinations: [{ name: 'disk', status: 'failed', verified: [shard], failed: [{ id: shard }] }],
    });
    expect(failure.text).toMatch(new RegExp(`verify FAILED — disk: ${shard}: .+; verified ${shard}$`));
    const ntfy = heard.find((entry) => entry.path === '/ntfy/backups')!;
    expect(ntfy.headers.title).toMatch(/: verify\.failure$/);
    expect(ntfy.body).toBe(failure.text);

    const history = JSON.parse((await runCli(['history', '-c', config, '--json', '-n', '3'])).stdout);
    expect(history.runs.map((entry: { kind: string; status: string }) => [entry.kind, entry.status])).toEqual(
      [
        ['verify', 'failed'],
        ['prune', 'success'],
        ['verify', 'success'],
      ],
    );
    expect(history.runs[0]).toMatchObject({
      exit_code: 1,
      destinations: [{ name: 'disk', status: 'failed', verified: [shard], failed: [{ id: shard }] }],
      error: { code: 'VERIFY_FAILED' },
    });
    expect(history.runs[1].destinations).toEqual([
      { name: 'disk', status: 'success', deleted: [], failed: [] },
      { name: 'spare', status: 'success', deleted: [], failed: [] },
    ]);
    const table = await runCli(['history', '-c', config, '-n', '3']);
    expect(table.stdout).toMatch(new RegExp(`verify\\s+${shard}\\s+FAILED.*disk\\s+FAILED\\s+${shard}: `));
    expect(table.stdout).toMatch(
      new RegExp(`verify\\s+${shard}\\s+success.*disk\\s+success\\s+verified ${shard}`),
    );

    // status reads the newest verify of each destination: a failed one fails it (exit 1).
    const status = await runCli(['status', '-c', config, '-d', 'disk', '--json']);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).destinations[0].last_verify).toMatchObject({
      status: 'failed',
      failed: [{ id: shard }],
    });
    const text = await runCli(['status', '-c', config, '-d', 'disk']);
    expect(text.stdout).toMatch(/^disk\s.*VERIFY FAILED$/m);
    expect(text.stderr).toContain(`disk: the last verify`);
    expect(text.stderr).toContain(shard);

    // Repaired (here: the bytes put back), a passing verify clears it.
    await writeFile(join(disk, archive), bytes);
    expect((await runCli(['verify', '-c', config, '-d', 'disk'])).code).toBe(0);
    expect((await runCli(['status', '-c', config, '-d', 'disk'])).code).toBe(0);
    take();
  });

  it('a run refused by the lock (exit 4) and one stopped by SIGTERM (exit 143) notify and are in history', async () => {
    const first = startCli(['run', '-c', config], { env: { SLOW: '1' } });
    await wait(
      () =>
        access(join(work.path, 'started')).then(
          () => true,
          () => false,
        ),
      'the slow before hook',
    );
    const locked = await runCli(['run', '-c', config]);
    expect(locked.code, locked.stderr).toBe(4);
    await wait(() => events(received).includes('backup.locked'), 'the locked event');
    process.kill(first.pid, 'SIGTERM');
    const stopped = await first.result;
    expect(stopped.code, stopped.stderr).toBe(143);
    // An interrupted run still runs its finally hooks (the service a before hook stopped starts again).
    expect(await readFile(join(work.path, 'finally'), 'utf8')).toBe('failed ABORTED []\n');
    const got = take();
    expect(events(got)).toEqual(['backup.locked', 'backup.interrupted']);
    // The locked run pings nothing (the run holding the lock pings); the interrupted one pings fail.
    expect(got.filter((entry) => entry.path.startsWith('/hc/')).map((entry) => entry.path)).toEqual([
      '/hc/check-1/start',
      '/hc/check-1/fail',
    ]);
    expect(got.find((entry) => entry.path === '/hc/check-1/fail')!.body).toContain('INTERRUPTED');
    const history = await runCli(['history', '-c', config, '--json', '--limit', '2']);
    const runs = JSON.parse(history.stdout).runs as Array<{
      status: string;
      error?: { code: string; message: string };
    }>;
    expect(runs.map((entry) => [entry.status, entry.error?.code])).toEqual(
      expect.arrayContaining([
        ['failed', 'LOCKED'],
        ['failed', 'ABORTED'],
      ]),
    );
  });
});
