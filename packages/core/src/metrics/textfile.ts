import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

export interface MetricsDestination {
  name: string;
  status: 'success' | 'failed' | 'skipped';
  bytes: number;
  durationMs: number;
  attempts: number;
}

export interface MetricsRun {
  /**
   * The config's identity (backup.name, source_instance), a label of every
   * series: two configs on one host write two files node_exporter can merge.
   */
  identity?: { config: string; sourceInstance: string };
  status: 'success' | 'warning' | 'partial' | 'failed';
  finishedAt: Date;
  durationMs: number;
  /** The kind of shard the run made. */
  type?: 'full' | 'incremental';
  destinations: MetricsDestination[];
  /** Paths the run could not archive whole. */
  warnings?: number;
}

const LAST_SUCCESS = 'matric_backup_last_success_timestamp_seconds';

/**
 * Writes Prometheus text-format metrics for node_exporter's textfile collector,
 * atomically (temp file + rename) so the collector never reads half a file. A
 * destination that failed keeps the last-success time the previous file had, so
 * an alert on its age keeps counting.
 */
export async function writeMetricsFile(path: string, run: MetricsRun): Promise<void> {
  // prom-client is loaded only when metrics are written: every CLI start would pay for it otherwise
  const { Gauge, Registry } = await import('prom-client');
  const previous = await readLastSuccess(path);
  const registry = new Registry();
  if (run.identity)
    registry.setDefaultLabels({ config: run.identity.config, source_instance: run.identity.sourceInstance });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  const runTimestamp = gauge('matric_backup_last_run_timestamp_seconds', 'When the last run finished.');
  const runDuration = gauge('matric_backup_last_run_duration_seconds', 'Duration of the last run.');
  const runSuccess = gauge(
    'matric_backup_last_run_success',
    '1 when every required destination got the shard.',
  );
  const runWarnings = gauge(
    'matric_backup_last_run_warnings',
    'Paths the last run could not archive whole (vanished, unreadable, changed while read).',
  );
  const runIncremental = gauge(
    'matric_backup_last_run_incremental',
    '1 when the last run made an incremental shard (only what changed), 0 for a full one.',
  );
  const lastSuccess = gauge(LAST_SUCCESS, 'When a shard was last stored on the destination.', [
    'destination',
  ]);
  const bytes = gauge('matric_backup_shard_bytes', 'Size of the shard stored by the last run.', [
    'destination',
  ]);
  const duration = gauge('matric_backup_upload_duration_seconds', 'Upload time in the last run.', [
    'destination',
  ]);
  const attempts = gauge('matric_backup_upload_attempts', 'Attempts the last upload took.', ['destination']);
  const failures = gauge('matric_backup_upload_failed', '1 when the last upload to the destination failed.', [
    'destination',
  ]);

  const finished = run.finishedAt.getTime() / 1000;
  runTimestamp.set(finished);
  runDuration.set(run.durationMs / 1000);
  // A run completed with warnings stored its shard everywhere required: a success, with warnings counted.
  runSuccess.set(run.status === 'success' || run.status === 'warning' ? 1 : 0);
  runWarnings.set(run.warnings ?? 0);
  runIncremental.set(run.type === 'incremental' ? 1 : 0);
  for (const destination of run.destinations) {
    const labels = { destination: destination.name };
    if (destination.status === 'success') lastSuccess.set(labels, finished);
    else if (previous.has(destination.name)) lastSuccess.set(labels, previous.get(destination.name)!);
    bytes.set(labels, destination.status === 'success' ? destination.bytes : 0);
    duration.set(labels, destination.durationMs / 1000);
    attempts.set(labels, destination.attempts);
    failures.set(labels, destination.status === 'failed' ? 1 : 0);
  }

  await writeRegistry(path, registry);
}

/**
 * The registry's text into `path` through a temporary name: node_exporter never
 * reads a half-written file.
 */
export async function writeRegistry(path: string, registry: { metrics(): Promise<string> }): Promise<void> {
  const temporary = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, await registry.metrics(), { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readLastSuccess(path: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  const text = await readFile(path, 'utf8').catch(() => '');
  // Any order of labels: files written before the config labels have `destination` alone.
  const pattern = new RegExp(
    `^${LAST_SUCCESS}\\{(?:[^}]*,)?destination="((?:[^"\\\\]|\\\\.)*)"[^}]*\\} (\\S+)$`,
    'gm',
  );
  for (const match of text.matchAll(pattern)) values.set(match[1]!.replace(/\\(.)/g, '$1'), Number(match[2]));
  return values;
}
