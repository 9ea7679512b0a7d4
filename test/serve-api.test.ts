import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

// One daemon for the whole file (start-up is the expensive part): the API over its real unix
// socket, every endpoint's answers, a job to completion, a busy runner, a reload and a stop.

const TOKEN = 'e2e-token-0123456789abcdef';
const ID = /^backup_\d{8}_\d{6}_[a-z]{8}(_\d+)?$/;

let work: Awaited<ReturnType<typeof tempDir>>;
let config: string;
let socket: string;
let disk: string;
let gate: string;
let daemon: ChildProcess;
let exited: Promise<number | null>;
let log = '';

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field.
  body: any;
}

/** One HTTP request over the daemon's unix socket. */
function api(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<Answer> {
  const token = options.token === undefined ? TOKEN : options.token;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: {
          ...(token !== null && { authorization: `Bearer ${token}` }),
          ...(payload !== undefined && { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}; daemon output:\n${log}`);
}

/** Polls a job until it is no longer running. */
async function finished(jobId: string) {
  return until(`job ${jobId}`, async () => {
    const { body } = await api('GET', `/api/v1/jobs/${jobId}`);
    return body.data.status === 'running' ? undefined : body.data;
  });
}

/** `--server` and `--token-file` of the CLI client. */
function client(): string[] {
  return ['--server', `unix:${socket}`, '--token-file', join(work.path, 'tokens')];
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toMatchObject({ success: false, error: { code, message: expect.any(String) } });
}

beforeAll(async () => {
  work = await tempDir('mb-e2e-serve-');
  const data = join(work.path, 'data');
  await mkdir(join(data, 'notes'), { recursive: true });
  await writeFile(join(data, 'notes', 'a.txt'), 'alpha\n');
  await mkdir(join(work.path, 'roots'));
  await writeFile(join(work.path, 'tokens'), `# who may call\nops ${TOKEN}\n`, { mode: 0o600 });
  disk = join(work.path, 'disk');
  gate = join(work.path, 'gate');
  socket = join(work.path, 'api.sock');
  // A source that waits for the test to open the gate: a run is "in progress" for as long as a step needs.
  config = await writeConfig(work.path, {
    sources: [
      { name: 'data', type: 'directory', path: data },
      {
        name: 'gated',
        type: 'command',
        command: ['sh', '-c', `while [ ! -e ${gate} ]; do sleep 0.05; done; echo ok`],
        filename: 'gated.txt',
      },
    ],
    destinations: [
      { name: 'disk', type: 'local', path: disk },
      // Disabled: only a copy naming it writes there.
      { name: 'spare', type: 'local', enabled: false, path: join(work.path, 'spare') },
    ],
    api: { socket, token_file: './tokens', restore_roots: ['./roots'] },
  });
  daemon = spawn(process.execPath, [CLI_BIN, 'serve', '-c', config, '--stop-timeout', '1s'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  exited = new Promise((resolve) => daemon.on('exit', (code) => resolve(code)));
  await until('the socket', async () =>
    (await api('GET', '/api/v1/openapi.json')).status === 200 ? true : undefined,
  );
});

afterAll(async () => {
  if (daemon.exitCode === null) daemon.kill('SIGKILL');
  await work?.cleanup();
});

describe('serve: the HTTP API over its unix socket', () => {
  it('listens on a 0660 socket, refuses calls without a token (401) or with a wrong one (403)', async () => {
    const { stat } = await import('node:fs/promises');
    expect((await stat(socket)).mode & 0o777).toBe(0o660);
    expectError(await api('GET', '/api/v1/backups', { token: null }), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/api/v1/backups', { token: 'not-the-token-at-all' }), 403, 'FORBIDDEN');
    expectError(await api('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
    const openapi = (await api('GET', '/api/v1/openapi.json', { token: null })).body;
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/backups',
        '/api/v1/backups/{id}/restore',
        '/api/v1/copy',
        '/api/v1/jobs/{id}',
        '/api/v1/backup/status',
      ]),
    );
  });

  let shard: string;

  it('runs one backup at a time: a second POST is told which job is running; the job runs to completion', async () => {
    const before = await api('GET', '/health/backup');
    expect(before.status).toBe(503);
    expect(before.body).toMatchObject({ status: 'unhealthy', last_backup: null });
    const [a, b] = await Promise.all([api('POST', '/api/v1/backups'), api('POST', '/api/v1/backups')]);
    const [started, refused] = a.status === 202 ? [a, b] : [b, a];
    expect(started.status).toBe(202);
    expect(started.body.data).toMatchObject({
      kind: 'backup',
      status: 'running',
      job_id: expect.any(String),
    });
    expectError(refused, 409, 'BUSY');
    expect(refused.body.error.details.job_id).toBe(started.body.data.job_id);

    const status = await api('GET', '/api/v1/backup/status');
    expect(status.body.data.running).toMatchObject({ job_id: started.body.data.job_id, kind: 'backup' });
    // A manual run through the service meets the running one and exits as a locked run does.
    const manual = await runCli(['run', ...client()]);
    expect(manual.code, manual.stderr).toBe(4);
    expect(manual.stderr).toContain('BUSY');

    await writeFile(gate, '');
    const job = await finished(started.body.data.job_id);
    expect(job).toMatchObject({ status: 'succeeded', caller: 'token:ops', shard: expect.stringMatching(ID) });
    expect(job.result).toMatchObject({ status: 'success', dry_run: false });
    shard = job.shard;
    const health = await api('GET', '/health/backup');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'healthy', total_backups: 1, last_run: { id: shard } });
    const metrics = await new Promise<string>((resolve, reject) => {
      request(
        { socketPath: socket, path: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(metrics).toMatch(/^matric_backup_runs_total\{[^}]*status="success"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^matric_backup_retained_shards\{[^}]*destination="disk"[^}]*\} 1$/m);
    expect(await readdir(disk)).toEqual(
      expect.arrayContaining([`${shard}.tar.zst`, `${shard}.manifest.json`]),
    );
    expectError(await api('GET', '/api/v1/jobs/no-such-job'), 404, 'NOT_FOUND');
  });

  it('lists the shards and shows one; an unknown one is NOT_FOUND', async () => {
    const list = await api('GET', '/api/v1/backups');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ success: true, data: { total: 1 } });
    expect(list.body.data.backups[0]).toMatchObject({
      id: shard,
      type: 'full',
      owner: 'own',
      destinations: ['disk'],
    });
    const one = await api('GET', `/api/v1/backups/${shard}`);
    expect(one.body.data).toMatchObject({ id: shard, destinations: ['disk'] });
    expect((await api('GET', '/api/v1/backups/latest')).body.data.id).toBe(shard);
    expectError(await api('GET', '/api/v1/backups/backup_20200101_000000_abcdefgh'), 404, 'NOT_FOUND');
    const status = await api('GET', '/api/v1/backup/status');
    expect(status.body.data).toMatchObject({ running: null, last_backup: { id: shard, status: 'success' } });
    expect(status.body.data.destinations[0]).toMatchObject({ name: 'disk', count: 1, newest: { id: shard } });
  });

  it('restores only into a folder inside restore_roots; says which parameter is missing', async () => {
    expectError(
      await api('POST', `/api/v1/backups/${shard}/restore`, { body: {} }),
      400,
      'MISSING_PARAMETER',
    );
    const outside = join(work.path, 'outside');
    expectError(
      await api('POST', `/api/v1/backups/${shard}/restore`, { body: { to: outside } }),
      403,
      'RESTORE_NOT_ALLOWED',
    );
    expectError(
      await api('POST', `/api/v1/backups/${shard}/restore`, {
        body: { to: join(work.path, 'roots', '..', 'outside') },
      }),
      403,
      'RESTORE_NOT_ALLOWED',
    );
    expect(existsSync(outside)).toBe(false);

    const target = join(work.path, 'roots', 'r1');
    const started = await api('POST', `/api/v1/backups/${shard}/restore`, { body: { to: target } });
    expect(started.status).toBe(202);
    const job = await finished(started.body.data.job_id);
    expect(job).toMatchObject({ kind: 'restore', status: 'succeeded', shard, result: { to: target } });
    expect(await readFile(join(target, 'data', 'notes', 'a.txt'), 'utf8')).toBe('alpha\n');
  });

  it('validates a shard, and reports VALIDATION_FAILED once its archive is damaged', async () => {
    const good = await finished((await api('POST', `/api/v1/backups/${shard}/validate`)).body.data.job_id);
    expect(good).toMatchObject({ status: 'succeeded', result: { valid: true, backup_id: shard } });
    const missing = await finished(
      (await api('POST', '/api/v1/backups/backup_20200101_000000_abcdefgh/validate')).body.data.job_id,
    );
    expect(missing).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } });

    await appendFile(join(disk, `${shard}.tar.zst`), 'x');
    const bad = await finished((await api('POST', `/api/v1/backups/${shard}/validate`)).body.data.job_id);
    expect(bad).toMatchObject({
      status: 'failed',
      error: { code: 'VALIDATION_FAILED' },
      result: { valid: false },
    });
  });

  it('deletes a shard as a job, refuses at once one that incremental shards need, and what is not a shard id', async () => {
    expectError(await api('DELETE', '/api/v1/backups/not-an-id'), 400, 'INVALID_PARAMETER');
    const job = await finished((await api('DELETE', `/api/v1/backups/${shard}`)).body.data.job_id);
    expect(job).toMatchObject({ kind: 'delete', status: 'succeeded', result: { backup_id: shard } });
    expect((await readdir(disk)).filter((name) => name.startsWith(`${shard}.`))).toEqual([]);

    // A full shard and an incremental one on it (CLI runs beside the idle service).
    const ran = async (type: string) => {
      const result = await runCli(['run', '--type', type, '--json', '-c', config]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout);
    };
    const base: string = (await ran('full')).id;
    const increment = await ran('incremental');
    expect(increment).toMatchObject({ type: 'incremental' });
    const refused = await api('DELETE', `/api/v1/backups/${base}`);
    expectError(refused, 409, 'HAS_DEPENDENTS');
    expect(refused.body.error.message).toContain(increment.id);
    expect(refused.body.error.details.hint).toContain('?with_dependents=true');
    expect(refused.body.error.details.hint).not.toContain('--with-dependents');
    expect(await readdir(disk)).toContain(`${base}.tar.zst`);
    const both = await finished(
      (await api('DELETE', `/api/v1/backups/${base}?with_dependents=true`)).body.data.job_id,
    );
    expect(both).toMatchObject({
      status: 'succeeded',
      result: { backup_id: base, destinations: [{ destination: 'disk', dependents: [increment.id] }] },
    });
    expect(
      (await readdir(disk)).filter(
        (name) => name.startsWith(`${base}.`) || name.startsWith(`${increment.id}.`),
      ),
    ).toEqual([]);

    const audit = (await readFile(join(work.path, 'state', 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    for (const action of ['run', 'restore', 'delete'])
      expect(audit.find((entry) => entry.action === action)).toMatchObject({ caller: 'token:ops', shard });
  });

  it('the CLI talks to the service with --server: run waits for its job, status and list answer from it', async () => {
    const run = await runCli(['run', '--json', ...client()]);
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout);
    expect(job).toMatchObject({
      status: 'succeeded',
      shard: expect.stringMatching(ID),
      result: { status: 'success' },
    });
    const list = await runCli(['list', ...client()]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(job.shard);
    const status = await runCli(['status', '--json', ...client()]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, last_backup: { id: job.shard } });
    const refused = await runCli(['status', '--server', `unix:${socket}`], {
      env: { MATRIC_BACKUP_API_TOKEN: 'wrong-token-wrong-token' },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('FORBIDDEN');
  });

  it('copies shards to another destination as a job (never beside a backup), audited with the caller', async () => {
    expectError(await api('POST', '/api/v1/copy', { body: { from: 'disk' } }), 400, 'MISSING_PARAMETER');
    expectError(
      await api('POST', '/api/v1/copy', { body: { from: 'disk', to: 'spare' } }),
      400,
      'INVALID_PARAMETER',
    );
    const unknown = await api('POST', '/api/v1/copy', { body: { all: true, from: 'disk', to: 'nas' } });
    expectError(unknown, 400, 'INVALID_PARAMETER');
    expect(unknown.body.error.message).toContain('unknown destination "nas"');

    const latest = (await api('GET', '/api/v1/backups/latest')).body.data.id;
    const started = await api('POST', '/api/v1/copy', {
      body: { ids: ['latest'], from: 'disk', to: 'spare' },
    });
    expect(started.status).toBe(202);
    expect(started.body.data).toMatchObject({ kind: 'copy', status: 'running' });
    const job = await finished(started.body.data.job_id);
    expect(job).toMatchObject({
      kind: 'copy',
      status: 'succeeded',
      caller: 'token:ops',
      result: { from: 'disk', to: 'spare', ok: true, shards: [{ id: latest, status: 'copied' }] },
    });
    expect((await readdir(join(work.path, 'spare'))).sort()).toEqual(
      [`${latest}.index.json.zst`, `${latest}.manifest.json`, `${latest}.tar.zst`].sort(),
    );
    // Copied again, it is already there: nothing written.
    const again = await finished(
      (await api('POST', '/api/v1/copy', { body: { all: true, from: 'disk', to: 'spare', dry_run: true } }))
        .body.data.job_id,
    );
    expect(again.result.shards).toContainEqual(expect.objectContaining({ id: latest, status: 'present' }));

    const audit = (await readFile(join(work.path, 'state', 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit.filter((entry) => entry.action === 'copy')).toEqual([
      expect.objectContaining({
        caller: 'token:ops',
        result: 'success',
        destinations: ['disk', 'spare'],
        details: expect.objectContaining({ copied: [latest] }),
      }),
    ]);
  });

  it('answers MCP at /mcp behind the token: the read-only tools, statelessly', async () => {
    const mcp = (body: object, token: string | null = TOKEN) =>
      new Promise<Answer>((resolve, reject) => {
        const req = request(
          {
            socketPath: socket,
            method: 'POST',
            path: '/mcp',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...(token !== null && { authorization: `Bearer ${token}` }),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, ...body }));
      });
    const init = await mcp({
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } },
    });
    expect(init.status).toBe(200);
    expect(init.body.result.serverInfo.name).toBe('matric-backup');
    const tools = await mcp({ method: 'tools/list', params: {} });
    expect(tools.body.result.tools.map((tool: { name: string }) => tool.name).sort()).toEqual([
      'backup_history',
      'backup_info',
      'backup_status',
      'list_backups',
      'list_files',
      'verify_backup',
    ]);
    const status = await mcp({ method: 'tools/call', params: { name: 'backup_status', arguments: {} } });
    expect(status.body.result.structuredContent.destinations[0]).toMatchObject({
      name: 'disk',
      health: 'ok',
      newest: { id: expect.stringMatching(ID) },
    });
    expectError(await mcp({ method: 'tools/list', params: {} }, null), 401, 'UNAUTHORIZED');
  });

  it('a backup that meets the run lock of another process (a `run` of the CLI) is skipped, not failed', async () => {
    const holder = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${holder.pid}/stat`, 'utf8');
      const real = await realpath(config);
      const lock = join(
        work.path,
        'state',
        `run-${createHash('sha256').update(real).digest('hex').slice(0, 16)}.lock`,
      );
      const record = {
        pid: holder.pid,
        pid_start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19],
        host: hostname(),
        started_at: new Date().toISOString(),
        config: real,
        token: 'planted',
      };
      await writeFile(lock, JSON.stringify(record), { mode: 0o600 });
      const job = await finished((await api('POST', '/api/v1/backups')).body.data.job_id);
      expect(job).toMatchObject({ kind: 'backup', status: 'skipped', error: { code: 'LOCKED' } });
      expect(log).toContain('backup skipped');
      await rm(lock);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('keeps serving the previous config when SIGHUP finds a broken one', async () => {
    const good = await readFile(config, 'utf8');
    await writeFile(config, good.replace('"backup": {', '"backup": { "bogus": 1,'));
    daemon.kill('SIGHUP');
    await until('the reload to fail', async () => (log.includes('config reload failed') ? true : undefined));
    expect(log).toContain('bogus');
    expect((await api('GET', '/api/v1/backup/status')).status).toBe(200);
    await writeFile(config, good);
  });

  it('runs the schedule a reload brings: a run due while one runs is skipped and recorded', async () => {
    // The gate is closed again: the first scheduled run waits at it, the next one falls due meanwhile.
    await rm(gate);
    const good = JSON.parse(await readFile(config, 'utf8'));
    good.backup.schedule = { interval: '1s' };
    await writeFile(config, JSON.stringify(good));
    daemon.kill('SIGHUP');
    await until('the reload', async () => (log.includes('config reloaded') ? true : undefined));
    const skipped = await until('a skipped run', async () => {
      const { body } = await api('GET', '/api/v1/jobs');
      return body.data.jobs.find(
        (job: { status: string; caller: string }) =>
          job.status === 'skipped' && job.caller.startsWith('scheduler:'),
      );
    });
    expect(skipped).toMatchObject({
      kind: 'backup',
      caller: expect.stringMatching(/^scheduler:/),
      error: { code: 'BUSY' },
    });
    expect(log).toContain('scheduled backup skipped');
    const { body } = await api('GET', '/api/v1/backup/status');
    expect(body.data).toMatchObject({ schedule: 'every 1 s', running: { kind: 'backup' } });
    const blocked = body.data.running.job_id;
    await writeFile(gate, '');
    // The first run after the reload may be the catch-up (the last success is over an interval old).
    expect(await finished(blocked)).toMatchObject({
      status: 'succeeded',
      caller: expect.stringMatching(/^scheduler:(catch-up|schedule)$/),
    });
  });

  it('SIGTERM during a run aborts it within the stop timeout: no partial shard, no spool file, no lock, no socket', async () => {
    await rm(gate);
    const closedAt = new Date().toISOString();
    // A scheduled run created after the gate closed waits at it until SIGTERM.
    await until('a run waiting at the gate', async () => {
      const { body } = await api('GET', '/api/v1/jobs');
      const waiting = body.data.jobs.find(
        (job: { status: string; created_at: string }) =>
          job.status === 'running' && job.created_at > closedAt,
      );
      const locked = (await readdir(join(work.path, 'state'))).some((name) => name.endsWith('.lock'));
      return waiting && locked ? true : undefined;
    });
    daemon.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(log).toContain('service stopped');
    // Every archive has its sidecar, and nothing else is there (no temporary upload).
    const stored = await readdir(disk);
    const ids = new Set(
      stored.map((name) => name.replace(/\.(tar\.zst|index\.json\.zst|manifest\.json)$/, '')),
    );
    expect(stored.sort()).toEqual(
      [...ids].flatMap((id) => [`${id}.index.json.zst`, `${id}.manifest.json`, `${id}.tar.zst`]).sort(),
    );
    expect((await readdir(join(work.path, 'state'))).filter((name) => name.endsWith('.lock'))).toEqual([]);
    expect(await readdir(join(work.path, 'state', 'spool'))).toEqual([]);
    expect(existsSync(socket)).toBe(false);
  });

  it('a config error found at start (a cron that does not parse) exits 2 at once, listening on nothing', async () => {
    const broken = await writeConfig(
      work.path,
      {
        sources: [{ name: 'data', type: 'directory', path: join(work.path, 'data') }],
        destinations: [{ name: 'disk', type: 'local', path: disk }],
        schedule: { cron: '99 99 * * *' },
        api: { socket: join(work.path, 'other.sock'), token_file: './tokens' },
      },
      'broken.yaml',
    );
    const result = await runCli(['serve', '-c', broken, '--log-format', 'text'], { timeoutMs: 60_000 });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout + result.stderr).toContain('backup.schedule.cron');
    expect(existsSync(join(work.path, 'other.sock'))).toBe(false);
  });
});
