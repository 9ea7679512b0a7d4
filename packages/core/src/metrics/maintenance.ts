import { writeRegistry } from './textfile.js';

/** A finished `verify` or `prune`, as its textfile metrics say it. */
export interface MaintenanceRun {
  kind: 'verify' | 'prune';
  identity: { config: string; sourceInstance: string };
  ok: boolean;
  finishedAt: Date;
  durationMs: number;
  /** Per destination: whether it passed, and for prune how many shards it deleted. */
  destinations: Array<{ name: string; ok: boolean; deleted?: number }>;
}

/**
 * Writes `matric_backup_last_<kind>_*` for node_exporter's textfile collector,
 * labelled with the config's identity like the run's metrics, atomically. A
 * file of its own (the collector merges the folder): the run's file keeps the
 * run's last-success times, which this command does not know.
 */
export async function writeMaintenanceMetricsFile(path: string, run: MaintenanceRun): Promise<void> {
  // prom-client is loaded only when metrics are written: every CLI start would pay for it otherwise
  const { Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  registry.setDefaultLabels({ config: run.identity.config, source_instance: run.identity.sourceInstance });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name: `matric_backup_last_${run.kind}_${name}`, help, labelNames, registers: [registry] });
  gauge('timestamp_seconds', `When the last ${run.kind} finished.`).set(run.finishedAt.getTime() / 1000);
  gauge('duration_seconds', `Duration of the last ${run.kind}.`).set(run.durationMs / 1000);
  gauge('success', `1 when the last ${run.kind} passed on every destination.`).set(run.ok ? 1 : 0);
  const failed = gauge('failed', `1 when the last ${run.kind} failed on the destination.`, ['destination']);
  const deleted =
    run.kind === 'prune'
      ? gauge('deleted_shards', 'Shards the last prune deleted.', ['destination'])
      : undefined;
  for (const destination of run.destinations) {
    failed.set({ destination: destination.name }, destination.ok ? 0 : 1);
    deleted?.set({ destination: destination.name }, destination.deleted ?? 0);
  }
  await writeRegistry(path, registry);
}
