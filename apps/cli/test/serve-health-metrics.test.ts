import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, runBackup } from '@matric-backup/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinPlugins } from '../src/builtins.js';
import { computeBackupHealth, healthResponse } from '../src/serve/health.js';
import { createServiceMetrics } from '../src/serve/metrics.js';
import { parsePromText } from './helpers/prometheus-text.js';

const HOUR = 3_600_000;
let dir: string;
let configFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-serve-health-'));
  await mkdir(join(dir, 'data/notes'), { recursive: true });
  await writeFile(join(dir, 'data/notes/a.txt'), 'alpha\n');
  await writeFile(join(dir, 'data/b.txt'), 'beta\n');
  // A regular file where the optional destination's folder would have to be: every put there fails.
  await writeFile(join(dir, 'not-a-folder'), '');
  configFile = join(dir, 'backup.yaml');
  await writeFile(
    configFile,
    `backup:
  name: health-test
  source_instance: testhost
  state_dir: ./state
  sources:
    - {name: data, type: directory, path: ./data}
  destinations:
    - {name: good, type: local, path: ./good}
    - {name: usb, type: local, path: ./not-a-folder/usb, required: false}
  retry: {max_retries: 0}
`,
  );
  return () => rm(dir, { recursive: true, force: true });
});

const load = () => loadConfig({ file: configFile, cwd: dir, env: {}, builtins: builtinPlugins });

describe('health and metrics of a real config after a real run', () => {
  it('healthy while fresh, 503 once older than max_age; an optional destination that failed is reported, not fatal', async () => {
    const config = await load();
    const summary = await runBackup(config);
    expect(summary.status).toBe('success');

    const health = await computeBackupHealth(config, { maxAgeMs: 48 * HOUR });
    expect(healthResponse(health).statusCode).toBe(200);
    expect(health).toMatchObject({
      status: 'healthy',
      config: 'health-test',
      source_instance: 'testhost',
      max_age_seconds: 172_800,
      last_backup: summary.manifest!.created_at,
      total_backups: 1,
      success_rate_24h: 100,
      last_run: { id: summary.id, status: 'success' },
    });
    const [good, usb] = health.destinations;
    expect(good).toMatchObject({
      name: 'good',
      status: 'healthy',
      total_backups: 1,
      last_run_status: 'success',
      success_rate_24h: 100,
      problems: [],
    });
    expect(good!.disk_space_free_percent).toBeGreaterThan(0);
    expect(good!.disk_space_free_percent).toBeLessThanOrEqual(100);
    expect(good!.disk_total_bytes).toBeGreaterThan(good!.disk_free_bytes!);
    expect(usb).toMatchObject({
      name: 'usb',
      required: false,
      status: 'unhealthy',
      last_run_status: 'failed',
      success_rate_24h: 0,
    });
    expect(usb!.problems).toContain('the last run failed here');

    // Three days later: the newest shard is older than max_age.
    const later = await computeBackupHealth(config, {
      maxAgeMs: 48 * HOUR,
      now: new Date(Date.parse(summary.startedAt) + 72 * HOUR),
    });
    expect(healthResponse(later).statusCode).toBe(503);
    expect(later.destinations[0]!.problems).toEqual(['newest backup is older than 48 h']);
    expect(later.success_rate_24h).toBeNull();
    expect(later.last_backup_age_hours).toBeGreaterThanOrEqual(72);
  });

  it('a required destination whose last run failed makes the whole unhealthy', async () => {
    const config = await load();
    const usb = config.destinations.find((destination) => destination.name === 'usb')!;
    usb.required = true;
    const health = await computeBackupHealth(config, { maxAgeMs: 48 * HOUR });
    expect(health.status).toBe('unhealthy');
    expect(healthResponse(health).statusCode).toBe(503);
  });

  it('/metrics: parsed as Prometheus text, labelled by the config identity', async () => {
    const config = await load();
    const summary = await runBackup(config);
    const metrics = await createServiceMetrics(config);
    metrics.observeRun(summary);
    metrics.observeSkipped();
    metrics.observeRestore({ durationMs: 1500 });
    metrics.observeCleanup({ durationMs: 200, error: { code: 'UNREACHABLE' } });
    metrics.observeHealth(await computeBackupHealth(config, { maxAgeMs: 48 * HOUR }));
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    const text = parsePromText(await metrics.text());
    const value = (name: string, labels: Record<string, string>) => {
      const found = text.find(name, labels);
      return found.length === 1 ? found[0]!.value : undefined;
    };
    const identity = { config: 'health-test', source_instance: 'testhost' };

    expect(text.types.get('matric_backup_duration_seconds')).toBe('histogram');
    const backup = { ...identity, operation: 'backup' };
    expect(value('matric_backup_duration_seconds_count', backup)).toBe(1);
    expect(value('matric_backup_duration_seconds_sum', backup)).toBeCloseTo(summary.durationMs / 1000, 3);
    expect(value('matric_backup_duration_seconds_bucket', { operation: 'restore', le: '1' })).toBe(0);
    expect(value('matric_backup_duration_seconds_bucket', { operation: 'restore', le: '5' })).toBe(1);
    expect(value('matric_backup_runs_total', { ...identity, status: 'success' })).toBe(1);
    expect(value('matric_backup_runs_total', { status: 'skipped' })).toBe(1);
    expect(value('matric_backup_runs_total', { status: 'failed' })).toBe(0);
    expect(text.find('matric_backup_errors_total', { operation: 'backup', destination: 'usb' })).toHaveLength(
      1,
    );
    expect(value('matric_backup_errors_total', { operation: 'cleanup', code: 'UNREACHABLE' })).toBe(1);
    expect(text.find('matric_backup_errors_total', { destination: 'good' })).toEqual([]);
    expect(value('matric_backup_size_bytes', identity)).toBe(summary.archive!.size);
    expect(value('matric_backup_files', identity)).toBe(summary.archive!.files);
    // Two runs of this config so far on `good`: both retained (no retention policy).
    expect(value('matric_backup_retained_shards', { ...identity, destination: 'good' })).toBe(2);
    expect(value('matric_backup_last_success_timestamp_seconds', { destination: 'good' })).toBe(
      Date.parse(summary.manifest!.created_at) / 1000,
    );
    expect(text.find('matric_backup_last_success_timestamp_seconds', { destination: 'usb' })).toEqual([]);
    expect(value('matric_backup_disk_total_bytes', { destination: 'good' })).toBeGreaterThan(0);
    expect(text.find('matric_backup_disk_free_bytes', { destination: 'usb' })).toEqual([]);
    // Every series carries the config identity.
    expect(text.samples.every((sample) => sample.labels.config === 'health-test')).toBe(true);
  });

  it('the test parser refuses what is not Prometheus text', () => {
    expect(() => parsePromText('matric_backup_files{config="a} 1\n')).toThrow(/line 1/);
    expect(() => parsePromText('# TYPE x histo\n')).toThrow(/line 1/);
    expect(parsePromText('x{a="b\\"c",d="e"} 2\n').samples).toEqual([
      { name: 'x', labels: { a: 'b"c', d: 'e' }, value: 2 },
    ]);
  });
});
