import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingUrl } from '../src/notify/healthchecks.js';
import { deliver } from '../src/notify/http.js';
import { type NotificationInput, notify } from '../src/notify/index.js';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

const { load, fail } = loaderIn(tempDirs());

describe('healthchecks ping URLs', () => {
  it('url alone: url/start, url, url/fail; an explicit URL wins', () => {
    const base = { url: 'https://hc-ping.com/abc/', retries: 0 };
    expect(['start', 'success', 'fail'].map((phase) => pingUrl(base, phase as 'start'))).toEqual([
      'https://hc-ping.com/abc/start',
      'https://hc-ping.com/abc',
      'https://hc-ping.com/abc/fail',
    ]);
    expect(pingUrl({ ...base, fail_url: 'https://x.example/f' }, 'fail')).toBe('https://x.example/f');
    expect(pingUrl({ success_url: 'https://x.example/ok', retries: 0 }, 'start')).toBeUndefined();
  });
});

describe('notification config keys', () => {
  it('webhooks, healthchecks and ntfy load with their defaults beside the old keys; URLs and tokens are secrets', async () => {
    const config = await load(`backup:
  notifications:
    webhook_url: https://hooks.example/old
    webhooks:
      - url: https://hooks.example/new
        headers: {Authorization: Bearer abcdefgh12345, X-Team: ops}
    healthchecks: {url: https://hc-ping.com/5f1c1a60-uuid}
    ntfy: {url: https://ntfy.sh/topic-xyz, token: tk_0123456789}
  destinations:
    - {name: a, type: local, path: /a}
`);
    const { notifications } = config.backup;
    expect(notifications?.webhooks).toEqual([
      {
        url: 'https://hooks.example/new',
        method: 'POST',
        headers: { Authorization: 'Bearer abcdefgh12345', 'X-Team': 'ops' },
        retries: 2,
      },
    ]);
    expect(notifications?.healthchecks).toEqual({ url: 'https://hc-ping.com/5f1c1a60-uuid', retries: 2 });
    expect(notifications?.ntfy).toMatchObject({ tags: [], retries: 2 });
    expect(config.secrets).toEqual(
      expect.arrayContaining([
        'https://hooks.example/old',
        'https://hooks.example/new',
        'Bearer abcdefgh12345',
        'https://hc-ping.com/5f1c1a60-uuid',
        'https://ntfy.sh/topic-xyz',
        'tk_0123456789',
      ]),
    );
    expect(config.secrets).not.toContain('ops');
  });

  it('a wrong method, a URL that is not http, healthchecks without a URL: each at its key path', async () => {
    const error = await fail(`backup:
  notifications:
    webhooks: [{url: ftp://x, method: DELETE}]
    healthchecks: {retries: 1}
  destinations:
    - {name: a, type: local, path: /a}
`);
    const paths = error.issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'backup.notifications.webhooks[0].url',
        'backup.notifications.webhooks[0].method',
        'backup.notifications.healthchecks',
      ]),
    );
  });
});

describe('delivery', () => {
  let server: Server;
  let base: string;
  const answers: number[] = [];
  let hits = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume().on('end', () => {
        hits++;
        response.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const request = (path: string) => ({
    url: `${base}${path}`,
    method: 'POST' as const,
    headers: {},
    body: 'x',
    what: 'webhook',
  });
  const noSleep = { sleep: async () => {} };

  it('retries a 5xx and a 429, not a 404; errors name the host, never the path', async () => {
    hits = 0;
    answers.push(500, 429);
    await deliver(request('/ok'), { timeoutMs: 5000, retries: 2, ...noSleep });
    expect(hits).toBe(3);
    hits = 0;
    answers.push(404);
    await expect(
      deliver(request('/secret-path'), { timeoutMs: 5000, retries: 2, ...noSleep }),
    ).rejects.toThrow(/^webhook: HTTP 404 from 127\.0\.0\.1:\d+ \(after 3 attempts\)$/);
    expect(hits).toBe(1);
  });

  it('a failed optional destination on a success: webhooks hear backup.warning only when asked; healthchecks always pinged', async () => {
    const run: NotificationInput = {
      status: 'success',
      durationMs: 1,
      configFile: '/c.yaml',
      host: 'h',
      destinations: [],
      log: ['warning: optional destination spare failed'],
    };
    hits = 0;
    const sent = await notify(
      {
        on_success: false,
        on_failure: false,
        webhooks: [{ url: `${base}/w`, method: 'PUT', headers: {}, retries: 0 }],
        healthchecks: { url: `${base}/hc`, retries: 0 },
      },
      run,
    );
    expect(sent).toEqual([{ channel: 'healthchecks', ok: true }]);
    expect(hits).toBe(1);
  });
});
