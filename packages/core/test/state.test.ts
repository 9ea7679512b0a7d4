import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunRecord, readRunHistory, recordRun, writeAudit } from '../src/state/index.js';

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'mb-state-')), 'state');
});
afterEach(() => rm(join(dir, '..'), { recursive: true, force: true }));

const record = (id: string, config = '/etc/a.yaml'): RunRecord => ({
  id,
  config,
  started_at: '2026-11-23T02:00:00.000Z',
  finished_at: '2026-11-23T02:00:05.000Z',
  status: 'success',
  duration_ms: 5000,
  destinations: [{ name: 'local', status: 'success', bytes: 10, duration_ms: 100, attempts: 1 }],
});

describe('state folder', () => {
  it('appends audit lines as JSON with time, user, host; folder 0700, file 0600', async () => {
    await writeAudit(dir, {
      action: 'run',
      config: '/etc/a.yaml',
      shard: 'backup_1',
      destinations: ['local'],
      result: 'success',
    });
    await writeAudit(dir, {
      action: 'delete',
      config: '/etc/a.yaml',
      shard: 'backup_1',
      destinations: ['local'],
      result: 'success',
    });
    const lines = (await readFile(join(dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.action)).toEqual(['run', 'delete']);
    expect(lines[0]).toMatchObject({ user: expect.any(String), host: expect.any(String), shard: 'backup_1' });
    expect(Number.isNaN(Date.parse(lines[0].time))).toBe(false);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'audit.log'))).mode & 0o777).toBe(0o600);
  });

  it('reads run history newest first, filtered by config, skipping a torn line', async () => {
    expect(await readRunHistory(dir)).toEqual([]);
    await recordRun(dir, record('backup_1'));
    await recordRun(dir, record('backup_other', '/etc/b.yaml'));
    await appendFile(join(dir, 'runs.jsonl'), '{"id":"torn');
    await appendFile(join(dir, 'runs.jsonl'), '\n');
    await recordRun(dir, record('backup_2'));
    expect((await readRunHistory(dir, { config: '/etc/a.yaml' })).map((r) => r.id)).toEqual([
      'backup_2',
      'backup_1',
    ]);
    expect((await readRunHistory(dir, { limit: 1 })).map((r) => r.id)).toEqual(['backup_2']);
    expect((await stat(join(dir, 'runs.jsonl'))).mode & 0o777).toBe(0o600);
  });
});
