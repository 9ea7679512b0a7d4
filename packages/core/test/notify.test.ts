import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotificationInput, notify } from '../src/notify/index.js';
import { buildPayload } from '../src/notify/payload.js';

const SECRET = 'hunter2-very-secret';

const failedRun: NotificationInput = {
  status: 'partial',
  shardId: 'backup_20261123_020000',
  sizeBytes: 1234,
  durationMs: 5000,
  configFile: '/etc/matric-backup/backup.yaml',
  host: 'db1',
  destinations: [
    { name: 'local', type: 'local', required: true, status: 'success', bytes: 1234, attempts: 1 },
    {
      name: 's3',
      type: 's3',
      required: true,
      status: 'failed',
      bytes: 0,
      attempts: 4,
      error: { code: 'AUTH_FAILED', message: `access denied for key ${SECRET}` },
    },
  ],
};

let http: Server;
let httpUrl: string;
const received: Array<{ body: unknown; contentType?: string }> = [];
let smtp: SMTPServer;
let smtpPort: number;
const mails: Array<{ from: string; to: string[]; raw: string; user?: string }> = [];

beforeAll(async () => {
  http = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.url === '/fail') {
      response.writeHead(500).end();
      return;
    }
    received.push({
      body: JSON.parse(Buffer.concat(chunks).toString()),
      contentType: request.headers['content-type'],
    });
    response.writeHead(200).end('ok');
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'backup' && auth.password === SECRET) callback(null, { user: auth.username });
      else callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  http.close();
  await new Promise<void>((resolve) => smtp.close(resolve));
});

describe('notify', () => {
  it('POSTs JSON with the event, per-destination results and a Slack text, without secrets', async () => {
    received.length = 0;
    const results = await notify(
      { on_success: false, on_failure: true, webhook_url: `${httpUrl}/hook` },
      failedRun,
      { secrets: [SECRET] },
    );
    expect(results).toEqual([{ channel: 'webhook', ok: true }]);
    expect(received).toHaveLength(1);
    const body = received[0]!.body as Record<string, unknown>;
    expect(received[0]!.contentType).toBe('application/json');
    expect(body.event).toBe('backup.partial');
    expect(body.shard_id).toBe('backup_20261123_020000');
    expect(body.destinations).toHaveLength(2);
    expect(String(body.text)).toContain('PARTIALLY FAILED');
    expect(JSON.stringify(body)).not.toContain(SECRET);
    // A shard of a run without a type is full; only incremental shards carry changes.
    expect(body).toMatchObject({ shard_type: 'full', changes: null });
  });

  it('names an incremental shard and what changed, with the bytes it stored', () => {
    const payload = buildPayload({
      ...failedRun,
      sizeBytes: 2048,
      shardType: 'incremental',
      changes: { created: 1, modified: 2, deleted: 3 },
    });
    expect(payload).toMatchObject({
      shard_type: 'incremental',
      size_bytes: 2048,
      changes: { created: 1, modified: 2, deleted: 3 },
    });
    expect(payload.text).toContain('incremental shard backup_20261123_020000');
  });

  it('a weak secret (`backup`) leaves the shard id, host and names intact and is masked in messages', async () => {
    received.length = 0;
    const run = {
      ...failedRun,
      error: { code: 'SOURCE_FAILED', message: 'password backup rejected' },
    };
    await notify({ on_success: false, on_failure: true, webhook_url: `${httpUrl}/hook` }, run, {
      secrets: ['backup'],
    });
    const body = received[0]!.body as { shard_id: string; text: string; error: { message: string } };
    expect(body.shard_id).toBe('backup_20261123_020000');
    expect(body.text).toContain('matric-backup on');
    expect(body.text).toContain('shard backup_20261123_020000');
    expect(body.text).toContain('password *** rejected');
    expect(body.error.message).toBe('password *** rejected');
  });

  it('sends nothing for a success unless on_success is set', async () => {
    received.length = 0;
    const success = { ...failedRun, status: 'success' as const, destinations: [failedRun.destinations[0]!] };
    expect(
      await notify({ on_success: false, on_failure: true, webhook_url: `${httpUrl}/hook` }, success),
    ).toEqual([]);
    expect(received).toHaveLength(0);
    await notify({ on_success: true, on_failure: true, webhook_url: `${httpUrl}/hook` }, success);
    expect((received[0]!.body as { event: string }).event).toBe('backup.success');
  });

  it('a run completed with warnings is sent as backup.warning with the paths, when either setting is on', async () => {
    received.length = 0;
    const warned = {
      ...failedRun,
      status: 'warning' as const,
      destinations: [failedRun.destinations[0]!],
      error: undefined,
      warnings: [
        { code: 'VANISHED', path: 'logs/a.log', reason: 'removed while the backup ran' },
        { code: 'UNREADABLE', path: 'logs/b.log', reason: 'permission denied' },
      ],
    };
    expect(
      await notify({ on_success: false, on_failure: false, webhook_url: `${httpUrl}/hook` }, warned),
    ).toEqual([]);
    await notify({ on_success: false, on_failure: true, webhook_url: `${httpUrl}/hook` }, warned);
    await notify({ on_success: true, on_failure: false, webhook_url: `${httpUrl}/hook` }, warned);
    expect(received).toHaveLength(2);
    const body = received[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ event: 'backup.warning', status: 'warning', warning_count: 2 });
    expect(body.warnings).toEqual(warned.warnings);
    expect(String(body.text)).toContain(
      'completed with warnings — shard backup_20261123_020000 — stored on local — not archived whole: logs/a.log (removed while the backup ran) and 1 more',
    );
  });

  it('reports a failing webhook without throwing and without the URL path', async () => {
    const results = await notify(
      { on_success: false, on_failure: true, webhook_url: `${httpUrl}/fail` },
      failedRun,
    );
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.error).toContain('HTTP 500');
    const refused = await notify(
      { on_success: false, on_failure: true, webhook_url: 'http://127.0.0.1:1/T0KEN' },
      failedRun,
      { timeoutMs: 2000 },
    );
    expect(refused[0]!.ok).toBe(false);
    expect(refused[0]!.error).not.toContain('T0KEN');
  });

  it('emails over SMTP with authentication, and the mail carries no secret', async () => {
    mails.length = 0;
    const results = await notify(
      {
        on_success: false,
        on_failure: true,
        email: 'ops@example.com',
        smtp: {
          host: '127.0.0.1',
          port: smtpPort,
          secure: false,
          username: 'backup',
          password: SECRET,
          from: 'mb@example.com',
        },
      },
      failedRun,
      { secrets: [SECRET] },
    );
    expect(results).toEqual([{ channel: 'email', ok: true }]);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(['ops@example.com']);
    expect(mails[0]!.user).toBe('backup');
    expect(mails[0]!.raw).toContain('backup_20261123_020000');
    expect(mails[0]!.raw).not.toContain(SECRET);
  });

  it('a verify or prune names itself, its outcome and its shards: subject, text and payload', async () => {
    mails.length = 0;
    const verifyFailed: NotificationInput = {
      status: 'failed',
      event: 'verify.failure',
      durationMs: 900,
      configFile: '/etc/matric-backup/backup.yaml',
      host: 'db1',
      destinations: [
        {
          ...failedRun.destinations[0]!,
          status: 'failed',
          verified: ['backup_20261122_020000', 'backup_20261123_020000'],
          failed: [{ id: 'backup_20261123_020000', message: 'sha256 does not match the sidecar' }],
        },
        {
          ...failedRun.destinations[1]!,
          error: { code: 'AUTH_FAILED', message: 'access denied' },
        },
      ],
      error: { code: 'VERIFY_FAILED', message: 'destination "local" shard "backup_20261123_020000": ...' },
    };
    const results = await notify(
      {
        on_success: false,
        on_failure: true,
        email: 'ops@example.com',
        smtp: { host: '127.0.0.1', port: smtpPort, secure: false, username: 'backup', password: SECRET },
      },
      verifyFailed,
      { secrets: [SECRET] },
    );
    expect(results).toEqual([{ channel: 'email', ok: true }]);
    // A long header is folded onto continuation lines.
    expect(mails[0]!.raw.replace(/\r?\n[ \t]+/g, ' ')).toContain(
      'Subject: [matric-backup] db1: verify failed (backup_20261122_020000 and 1 more)',
    );
    const payload = buildPayload(verifyFailed);
    expect(payload).toMatchObject({
      event: 'verify.failure',
      operation: 'verify',
      shard_id: null,
      shards: ['backup_20261122_020000', 'backup_20261123_020000'],
    });
    expect(payload.text).toBe(
      'matric-backup on db1 verify FAILED — local: backup_20261123_020000: sha256 does not match the sidecar; verified backup_20261122_020000, backup_20261123_020000 — s3: access denied',
    );
    expect(payload.text).not.toMatch(/backup (succeeded|FAILED)/);

    const pruned = buildPayload({
      ...verifyFailed,
      status: 'success',
      event: 'prune.success',
      destinations: [
        { ...failedRun.destinations[0]!, deleted: ['backup_20261101_020000'], failed: [] },
        { ...failedRun.destinations[1]!, status: 'success', error: undefined, deleted: [], failed: [] },
      ],
      error: undefined,
    });
    expect(pruned).toMatchObject({ operation: 'prune', shards: ['backup_20261101_020000'] });
    expect(pruned.text).toBe(
      'matric-backup on db1 prune done — local: deleted backup_20261101_020000 — s3: nothing deleted',
    );
  });

  it('a failed hook after the run is named in the text and listed with its command, exit code and output', () => {
    const failure = {
      code: 'HOOK_FAILED',
      message: 'finally hook [systemctl start app] exited with code 3; its last output:\nJob failed',
      hook: 'finally hook [systemctl start app]',
      command: 'systemctl start app',
      exit_code: 3,
      output_tail: ['Job failed'],
    };
    const payload = buildPayload({
      ...failedRun,
      status: 'warning',
      destinations: [failedRun.destinations[0]!],
      hookFailures: [failure],
    });
    expect(payload.event).toBe('backup.warning');
    expect(payload.hook_failures).toEqual([failure]);
    expect(payload.text).toBe(
      'matric-backup on db1 completed with warnings — shard backup_20261123_020000 — stored on local — finally hook [systemctl start app] exited with code 3',
    );
    expect(buildPayload(failedRun).hook_failures).toEqual([]);
  });

  it('reports an SMTP login failure without the password', async () => {
    const results = await notify(
      {
        on_success: false,
        on_failure: true,
        email: ['ops@example.com'],
        smtp: { host: '127.0.0.1', port: smtpPort, username: 'backup', password: 'wrong-pass-xyz' },
      },
      failedRun,
      { secrets: ['wrong-pass-xyz'], timeoutMs: 5000 },
    );
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.error).not.toContain('wrong-pass-xyz');
  });
});
