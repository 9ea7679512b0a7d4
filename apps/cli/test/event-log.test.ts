import { PassThrough } from 'node:stream';
import type { RunSummary } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { createEventLog, type LogFormat } from '../src/output/event-log.js';
import { logRunEvents } from '../src/output/log-events.js';

const SECRET = 'hunter2-very-secret';

async function capture(format: LogFormat, verbose = false) {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const log = await createEventLog({
    format,
    verbose,
    redact: (message) => message.replaceAll(SECRET, '***'),
    stdout: stream,
    stderr: stream,
  });
  // pino writes synchronously to a plain stream; the data event follows on the next tick.
  const output = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return text;
  };
  const records = async () =>
    (await output())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, output, records };
}

const summary = (overrides: Partial<RunSummary> = {}): RunSummary => ({
  id: 'backup_20261203_020000_abcdefgh',
  status: 'success',
  dryRun: false,
  startedAt: '2026-12-03T02:00:00.000Z',
  durationMs: 1234,
  type: 'full',
  archive: {
    key: 'backup_20261203_020000_abcdefgh.tar.zst',
    size: 15728640,
    sha256: 'ab',
    files: 127,
    bytesIn: 1,
  },
  destinations: [
    {
      name: 'local',
      type: 'local',
      required: true,
      status: 'success',
      bytes: 15729000,
      durationMs: 100,
      attempts: 1,
      prune: { deleted: ['backup_20261101_020000_abcdefgh'], failed: [] },
    },
    {
      name: 'nas',
      type: 'sftp',
      required: true,
      status: 'success',
      bytes: 15729000,
      durationMs: 100,
      attempts: 1,
      prune: { deleted: [], failed: [] },
    },
  ],
  warnings: [],
  sourceWarnings: [],
  ...overrides,
});

describe('the JSON event log', () => {
  it("one object a line with the design's fields; messages masked, ids and data never", async () => {
    const { log, records } = await capture('json');
    log.error(
      { backup_id: `backup_${SECRET}`, path: `/srv/${SECRET}`, error: `auth failed for ${SECRET}` },
      `backup creation failed: ${SECRET}`,
    );
    log.child({ caller: 'uid:0' }).warn('a plain message');
    log.debug('dropped without --verbose');
    const [first, second, ...rest] = await records();
    expect(first).toMatchObject({
      level: 'error',
      message: 'backup creation failed: ***',
      error: 'auth failed for ***',
      backup_id: `backup_${SECRET}`,
      path: `/srv/${SECRET}`,
      service: 'matric-backup',
    });
    expect(Date.parse(first!.timestamp as string)).not.toBeNaN();
    expect(second).toMatchObject({ level: 'warn', message: 'a plain message', caller: 'uid:0' });
    expect(rest).toEqual([]);
  });

  it('backup created, cleanup completed and cleanup skipped for a destination without a policy', async () => {
    const { log, records } = await capture('json');
    const config = {
      destinations: [
        { name: 'local', retention: { keep_last: 7 } },
        { name: 'nas', retention: undefined },
      ],
    } as unknown as Parameters<typeof logRunEvents>[1];
    logRunEvents(log, config, summary());
    logRunEvents(
      log,
      config,
      summary({
        status: 'failed',
        archive: undefined,
        error: { code: 'SOURCE_FAILED', message: `pg_dump: password ${SECRET} rejected` },
        destinations: [],
      }),
    );
    const events = (await records()).map(({ level, message, ...fields }) => ({ level, message, ...fields }));
    expect(events.map((event) => `${event.level} ${event.message}`)).toEqual([
      'info backup created',
      'info backup cleanup completed',
      'warn backup cleanup skipped',
      'error backup creation failed',
    ]);
    expect(events[0]).toMatchObject({
      backup_id: 'backup_20261203_020000_abcdefgh',
      size_bytes: 15728640,
      file_count: 127,
      duration_ms: 1234,
      status: 'success',
    });
    expect(events[1]).toMatchObject({ destination: 'local', deleted: ['backup_20261101_020000_abcdefgh'] });
    expect(events[2]).toMatchObject({ destination: 'nas', reason: 'no retention policy' });
    expect(events[3]).toMatchObject({ error: 'pg_dump: password *** rejected', code: 'SOURCE_FAILED' });
  });

  it('text for people: the message, then the fields; debug only when verbose', async () => {
    const { log, output } = await capture('text', true);
    log.info({ backup_id: 'b1', size_bytes: 10, reason: `has ${SECRET}` }, 'backup created');
    log.warn('backup cleanup skipped');
    log.debug('shown with --verbose');
    expect(await output()).toBe(
      'backup created (backup_id=b1 size_bytes=10 reason="has ***")\nwarn: backup cleanup skipped\ndebug: shown with --verbose\n',
    );
  });
});
