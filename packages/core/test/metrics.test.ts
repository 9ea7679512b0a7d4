import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMetricsFile } from '../src/metrics/textfile.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-metrics-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const value = (text: string, line: string) => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

describe('writeMetricsFile', () => {
  it('writes per-destination gauges in Prometheus text format, and nothing else in the folder', async () => {
    const path = join(dir, 'matric_backup.prom');
    await writeMetricsFile(path, {
      status: 'partial',
      finishedAt: new Date('2026-11-23T02:00:00Z'),
      durationMs: 12_500,
      destinations: [
        { name: 'local', status: 'success', bytes: 4096, durationMs: 2000, attempts: 1 },
        { name: 's3', status: 'failed', bytes: 0, durationMs: 9000, attempts: 4 },
      ],
    });
    const text = await readFile(path, 'utf8');
    expect(text).toContain('# TYPE matric_backup_shard_bytes gauge');
    expect(value(text, 'matric_backup_last_run_success')).toBe(0);
    expect(value(text, 'matric_backup_last_run_duration_seconds')).toBe(12.5);
    expect(value(text, 'matric_backup_shard_bytes{destination="local"}')).toBe(4096);
    expect(value(text, 'matric_backup_upload_attempts{destination="s3"}')).toBe(4);
    expect(value(text, 'matric_backup_upload_failed{destination="s3"}')).toBe(1);
    expect(value(text, 'matric_backup_last_success_timestamp_seconds{destination="local"}')).toBe(1795399200);
    expect(value(text, 'matric_backup_last_success_timestamp_seconds{destination="s3"}')).toBeUndefined();
    expect(await readdir(dir)).toEqual(['matric_backup.prom']);
  });

  it('a run completed with warnings counts as stored, with the number of paths not archived whole', async () => {
    const path = join(dir, 'w.prom');
    await writeMetricsFile(path, {
      status: 'warning',
      finishedAt: new Date(1_000_000),
      durationMs: 1,
      destinations: [{ name: 'local', status: 'success', bytes: 1, durationMs: 1, attempts: 1 }],
      warnings: 3,
    });
    const text = await readFile(path, 'utf8');
    expect(value(text, 'matric_backup_last_run_success')).toBe(1);
    expect(value(text, 'matric_backup_last_run_warnings')).toBe(3);
    expect(value(text, 'matric_backup_last_run_incremental')).toBe(0);
  });

  it('says whether the last shard was incremental', async () => {
    const path = join(dir, 'i.prom');
    const destinations = [
      { name: 'local', status: 'success' as const, bytes: 1, durationMs: 1, attempts: 1 },
    ];
    await writeMetricsFile(path, {
      status: 'success',
      finishedAt: new Date(1),
      durationMs: 1,
      type: 'incremental',
      destinations,
    });
    expect(value(await readFile(path, 'utf8'), 'matric_backup_last_run_incremental')).toBe(1);
  });

  it("keeps a failed destination's last success time from the previous file", async () => {
    const path = join(dir, 'm.prom');
    const ok = { name: 's3', status: 'success' as const, bytes: 1, durationMs: 1, attempts: 1 };
    await writeMetricsFile(path, {
      status: 'success',
      finishedAt: new Date(1_000_000),
      durationMs: 1,
      destinations: [ok],
    });
    await writeMetricsFile(path, {
      status: 'failed',
      finishedAt: new Date(2_000_000),
      durationMs: 1,
      destinations: [{ ...ok, status: 'failed' }],
    });
    const text = await readFile(path, 'utf8');
    expect(value(text, 'matric_backup_last_success_timestamp_seconds{destination="s3"}')).toBe(1000);
    expect(value(text, 'matric_backup_last_run_timestamp_seconds')).toBe(2000);
  });

  it('labels every series with the config identity, and still carries a last success over from it', async () => {
    const path = join(dir, 'm.prom');
    const identity = { config: 'web "prod"', sourceInstance: 'host1' };
    const ok = { name: 'nas', status: 'success' as const, bytes: 1, durationMs: 1, attempts: 1 };
    await writeMetricsFile(path, {
      identity,
      status: 'success',
      finishedAt: new Date(1_000_000),
      durationMs: 1,
      destinations: [ok],
    });
    await writeMetricsFile(path, {
      identity,
      status: 'failed',
      finishedAt: new Date(2_000_000),
      durationMs: 1,
      destinations: [{ ...ok, status: 'failed' }],
    });
    const text = await readFile(path, 'utf8');
    const labels = 'config="web \\"prod\\"",source_instance="host1"';
    expect(value(text, `matric_backup_last_run_timestamp_seconds{${labels}}`)).toBe(2000);
    expect(value(text, `matric_backup_last_success_timestamp_seconds{destination="nas",${labels}}`)).toBe(
      1000,
    );
    expect(
      text.split('\n').filter((line) => line.startsWith('matric_backup_') && !line.includes(labels)),
    ).toEqual([]);
  });
});
