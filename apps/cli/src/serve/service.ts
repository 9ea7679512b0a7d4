import type { LoadedConfig } from '@matric-backup/core';
import type { EventLog } from '../output/event-log.js';
import type { Jobs } from './jobs.js';
import type { ServiceMetrics } from './metrics.js';
import type { Runner } from './runner.js';
import type { Scheduler } from './scheduler.js';
import type { ApiSettings } from './settings.js';

/** What the API's routes and the scheduler share in one `serve` process. */
export interface Service {
  /** The config now in force: replaced by a reload (SIGHUP); a job keeps the one it started with. */
  config: LoadedConfig;
  settings: ApiSettings;
  readonly jobs: Jobs;
  readonly runner: Runner;
  readonly log: EventLog;
  readonly startedAt: Date;
  /** Set on SIGTERM: new work is refused while what runs finishes. */
  stopping: boolean;
  readonly metrics: ServiceMetrics;
  /** The schedule in force (its description, next run, the age past which a backup is stale). */
  schedule(): Scheduler | undefined;
  /** Masks the config's secrets in a message. */
  redact(text: string): string;
}
