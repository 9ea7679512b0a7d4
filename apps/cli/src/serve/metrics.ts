import type { LoadedConfig, RunSummary } from '@matric-backup/core';
import type { BackupHealth } from './health.js';

/** What `serve` measures; the HTTP layer calls these and serves `text()` at `/metrics`. */
export interface ServiceMetrics {
  /** The Content-Type of `text()` (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** A finished backup run (scheduled or asked for), including the retention that followed it. */
  observeRun(summary: RunSummary): void;
  /** A due run not started because another run of the config held the lock. */
  observeSkipped(): void;
  /** A restore through the service. */
  observeRestore(outcome: { durationMs: number; error?: { code: string } }): void;
  /** A prune through the service (not the one after a run: observeRun counts that). */
  observeCleanup(outcome: { durationMs: number; error?: { code: string } }): void;
  /** What the destinations hold now: shards retained, newest shard, free space (from computeBackupHealth). */
  observeHealth(health: BackupHealth): void;
  text(): Promise<string>;
}

/** Seconds; backups take from seconds (a small folder) to hours (a big first upload). */
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];

/**
 * The live registry of `serve`, every series labelled with the config's identity (`config` =
 * backup.name, `source_instance`), so that several daemons, or the textfile metrics of `run`, never
 * mix. prom-client is loaded here, when the service starts, never by the other commands.
 */
export async function createServiceMetrics(config: Pick<LoadedConfig, 'backup'>): Promise<ServiceMetrics> {
  const { Counter, Gauge, Histogram, Registry } = await import('prom-client');
  const registry = new Registry();
  registry.setDefaultLabels({ config: config.backup.name, source_instance: config.backup.source_instance });
  const registers = [registry];

  const duration = new Histogram({
    name: 'matric_backup_duration_seconds',
    help: 'Duration of backup, restore and cleanup operations.',
    labelNames: ['operation'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const runs = new Counter({
    name: 'matric_backup_runs_total',
    help: 'Backup runs by outcome: success, warning, partial, failed, skipped (another run held the lock).',
    labelNames: ['status'],
    registers,
  });
  const errors = new Counter({
    name: 'matric_backup_errors_total',
    help: 'Failed operations, by operation, destination (empty when none) and error code.',
    labelNames: ['operation', 'destination', 'code'],
    registers,
  });
  const size = new Gauge({
    name: 'matric_backup_size_bytes',
    help: 'Size of the archive of the last shard stored.',
    registers,
  });
  const files = new Gauge({
    name: 'matric_backup_files',
    help: 'Files in the last shard stored.',
    registers,
  });
  const lastRun = new Gauge({
    name: 'matric_backup_last_run_timestamp_seconds',
    help: 'When the last run finished.',
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'matric_backup_last_success_timestamp_seconds',
    help: "When this config's newest shard on the destination was made.",
    labelNames: ['destination'],
    registers,
  });
  const retained = new Gauge({
    name: 'matric_backup_retained_shards',
    help: "This config's complete shards on the destination.",
    labelNames: ['destination'],
    registers,
  });
  const diskFree = new Gauge({
    name: 'matric_backup_disk_free_bytes',
    help: 'Free space of the filesystem of a destination on this machine.',
    labelNames: ['destination'],
    registers,
  });
  const diskTotal = new Gauge({
    name: 'matric_backup_disk_total_bytes',
    help: 'Size of the filesystem of a destination on this machine.',
    labelNames: ['destination'],
    registers,
  });
  // Zero rather than absent, so that rate() and increase() see the first failure.
  for (const status of ['success', 'warning', 'partial', 'failed', 'skipped']) runs.inc({ status }, 0);

  const timed = (operation: string, outcome: { durationMs: number; error?: { code: string } }) => {
    duration.observe({ operation }, outcome.durationMs / 1000);
    if (outcome.error) errors.inc({ operation, destination: '', code: outcome.error.code });
  };

  return {
    contentType: registry.contentType,
    observeRun(summary) {
      const finished = (Date.parse(summary.startedAt) + summary.durationMs) / 1000;
      // The shard's own time, as observeHealth reads it back from the destinations.
      const made = Date.parse(summary.manifest?.created_at ?? summary.startedAt) / 1000;
      duration.observe({ operation: 'backup' }, summary.durationMs / 1000);
      runs.inc({ status: summary.status });
      lastRun.set(finished);
      if (summary.archive && summary.status !== 'failed') {
        size.set(summary.archive.size);
        files.set(summary.archive.files);
      }
      if (summary.status === 'failed' && summary.destinations.every((entry) => entry.status !== 'failed'))
        errors.inc({ operation: 'backup', destination: '', code: summary.error?.code ?? 'UNKNOWN' });
      for (const destination of summary.destinations) {
        const labels = { destination: destination.name };
        if (destination.status === 'success') lastSuccess.set(labels, made);
        if (destination.error)
          errors.inc({ operation: 'backup', destination: destination.name, code: destination.error.code });
        const prune = destination.prune;
        if (prune?.error) errors.inc({ operation: 'cleanup', ...labels, code: prune.error.code });
        if (prune?.failed.length)
          errors.inc({ operation: 'cleanup', ...labels, code: 'DELETE_FAILED' }, prune.failed.length);
      }
    },
    observeSkipped() {
      runs.inc({ status: 'skipped' });
    },
    observeRestore: (outcome) => timed('restore', outcome),
    observeCleanup: (outcome) => timed('cleanup', outcome),
    observeHealth(health) {
      for (const destination of health.destinations) {
        const labels = { destination: destination.name };
        if (destination.total_backups !== null) retained.set(labels, destination.total_backups);
        if (destination.last_backup) lastSuccess.set(labels, Date.parse(destination.last_backup) / 1000);
        if (destination.disk_free_bytes !== null && destination.disk_total_bytes !== null) {
          diskFree.set(labels, destination.disk_free_bytes);
          diskTotal.set(labels, destination.disk_total_bytes);
        }
      }
    },
    text: () => registry.metrics(),
  };
}
