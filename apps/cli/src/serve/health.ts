import { statfs } from 'node:fs/promises';
import {
  type Destination,
  destinationStatus,
  type LoadedConfig,
  loadShardOwner,
  type RunRecord,
  readRunHistory,
  selectDestinations,
} from '@matric-backup/core';
import { onEachDestination } from '../destinations.js';
import { errorRecord } from '../exit-codes.js';
import { lastVerifies } from '../operations/status.js';

/** One destination in `/health/backup`. */
interface DestinationHealth {
  name: string;
  type: string;
  required: boolean;
  status: 'healthy' | 'unhealthy';
  /** created_at of this config's newest shard there (never one dated in the future). */
  last_backup: string | null;
  last_backup_age_hours: number | null;
  /** This config's complete shards there. */
  total_backups: number | null;
  /** Free space of the filesystem holding it, when it is a folder on this machine. */
  disk_space_free_percent: number | null;
  disk_free_bytes: number | null;
  disk_total_bytes: number | null;
  /** Share of the runs of the last 24 h that stored a shard there, in percent; null without runs. */
  success_rate_24h: number | null;
  /** The outcome there of the newest run that tried it. */
  last_run_status: 'success' | 'failed' | null;
  /** Why it is unhealthy, for people. */
  problems: string[];
  error?: { code: string; message: string };
}

/** The body of `/health/backup`: the original design's fields, overall and per destination. */
export interface BackupHealth {
  /** unhealthy when a required destination is: no shard newer than max_age, its last run or its last verify failed. */
  status: 'healthy' | 'unhealthy';
  config: string;
  source_instance: string;
  checked_at: string;
  max_age_seconds: number;
  /** The newest shard on any destination. */
  last_backup: string | null;
  last_backup_age_hours: number | null;
  /** The most shards any destination holds. */
  total_backups: number;
  /** The fullest destination's free space. */
  disk_space_free_percent: number | null;
  /** Runs of the last 24 h that stored the shard everywhere required (with warnings too), in percent. */
  success_rate_24h: number | null;
  last_run: { id: string; status: RunRecord['status']; finished_at: string } | null;
  destinations: DestinationHealth[];
}

export interface HealthOptions {
  /** Older than this is unhealthy; default defaultMaxAgeMs(schedule). */
  maxAgeMs: number;
  now?: Date;
}

const DAY_MS = 86_400_000;

/**
 * `/health/backup`: reads each enabled destination (this config's shards only, as `status` does),
 * the run history of the last 24 hours and the free space of local folders. Never throws for a
 * destination that cannot be read: that destination is unhealthy with its error.
 */
export async function computeBackupHealth(
  config: LoadedConfig,
  options: HealthOptions,
): Promise<BackupHealth> {
  const now = options.now ?? new Date();
  const owner = await loadShardOwner(config);
  const history = await readRunHistory(config.backup.state_dir, { config: config.file });
  const verifies = await lastVerifies(config);
  const recent = history.filter((run) => now.getTime() - Date.parse(run.finished_at) <= DAY_MS);
  const outcomes = await onEachDestination(config, selectDestinations(config), async (opened) => ({
    status: await destinationStatus(opened, owner, now),
    disk: await diskOf(opened),
  }));

  const destinations = outcomes.map((outcome): DestinationHealth => {
    const { name, type, required } = outcome.destination;
    const tries = history.flatMap((run) =>
      run.destinations.filter((entry) => entry.name === name && entry.status !== 'skipped'),
    );
    const recentTries = recent.flatMap((run) =>
      run.destinations.filter((entry) => entry.name === name && entry.status !== 'skipped'),
    );
    const lastRunStatus = (tries[0]?.status as 'success' | 'failed' | undefined) ?? null;
    const base = {
      name,
      type,
      required,
      success_rate_24h: percent(
        recentTries.filter((entry) => entry.status === 'success').length,
        recentTries.length,
      ),
      last_run_status: lastRunStatus,
    };
    if (!outcome.ok) {
      const error = errorRecord(outcome.error);
      return {
        ...base,
        status: 'unhealthy',
        last_backup: null,
        last_backup_age_hours: null,
        total_backups: null,
        disk_space_free_percent: null,
        disk_free_bytes: null,
        disk_total_bytes: null,
        problems: [`cannot be read: ${error.message}`],
        error: { code: error.code, message: error.message },
      };
    }
    const { status, disk } = outcome.value;
    const problems: string[] = [];
    if (!status.newest) problems.push('no backup of this config');
    else if ((status.ageMs ?? 0) > options.maxAgeMs)
      problems.push(`newest backup is older than ${hours(options.maxAgeMs)} h`);
    if (lastRunStatus === 'failed') problems.push('the last run failed here');
    if (verifies.get(name)?.status === 'failed') problems.push('the last verify failed here');
    return {
      ...base,
      status: problems.length === 0 ? 'healthy' : 'unhealthy',
      last_backup: status.newest?.created_at ?? null,
      last_backup_age_hours: status.ageMs === undefined ? null : hours(status.ageMs),
      total_backups: status.count,
      disk_space_free_percent: disk ? round((disk.free / disk.total) * 100) : null,
      disk_free_bytes: disk?.free ?? null,
      disk_total_bytes: disk?.total ?? null,
      problems,
    };
  });

  const newest = destinations
    .map((destination) => destination.last_backup)
    .filter((created): created is string => created !== null)
    .sort()
    .at(-1);
  const disks = destinations.flatMap((destination) =>
    destination.disk_space_free_percent === null ? [] : [destination.disk_space_free_percent],
  );
  const last = history[0];
  return {
    // An optional destination (a USB disk not always plugged in) is reported, never makes the whole unhealthy.
    status: destinations.some((destination) => destination.required && destination.status === 'unhealthy')
      ? 'unhealthy'
      : 'healthy',
    config: config.backup.name,
    source_instance: config.backup.source_instance,
    checked_at: now.toISOString(),
    max_age_seconds: options.maxAgeMs / 1000,
    last_backup: newest ?? null,
    last_backup_age_hours: newest ? hours(now.getTime() - Date.parse(newest)) : null,
    total_backups: Math.max(0, ...destinations.map((destination) => destination.total_backups ?? 0)),
    disk_space_free_percent: disks.length > 0 ? Math.min(...disks) : null,
    success_rate_24h: percent(
      recent.filter((run) => run.status === 'success' || run.status === 'warning').length,
      recent.length,
    ),
    last_run: last ? { id: last.id, status: last.status, finished_at: last.finished_at } : null,
    destinations,
  };
}

/** What `/health/backup` answers: 200 healthy, 503 unhealthy (load balancers and probes read the code). */
export function healthResponse(health: BackupHealth): { statusCode: 200 | 503; body: BackupHealth } {
  return { statusCode: health.status === 'healthy' ? 200 : 503, body: health };
}

/** Free space where the destination is a folder on this machine; undefined for remote stores. */
async function diskOf(destination: Destination): Promise<{ free: number; total: number } | undefined> {
  if (destination.localPath === undefined) return undefined;
  const stats = await statfs(destination.localPath).catch(() => undefined);
  if (!stats || stats.blocks === 0) return undefined;
  // bavail: what an unprivileged writer may still use, as df shows it
  return { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize };
}

const round = (value: number) => Math.round(value * 10) / 10;
const hours = (ms: number) => round(ms / 3_600_000);
const percent = (part: number, whole: number) => (whole === 0 ? null : round((part / whole) * 100));
