import { type LoadedConfig, readRunHistory } from '@matric-backup/core';
import { planSchedule, type SchedulePlan, scheduleError } from './schedule-plan.js';

/** Time and timers, replaceable so that tests move time by hand. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Why a run is due: the service started (`run_on_start`), a missed schedule, or the schedule. */
type DueReason = 'start' | 'catch-up' | 'schedule';

export interface DueRun {
  reason: DueReason;
  /** The scheduled time (before the random delay); the service's start for `start` and `catch-up`. */
  scheduledAt: Date;
}

export interface SchedulerOptions {
  /** The loaded config: its `backup.schedule`, and its file and lines for errors. */
  config: Pick<LoadedConfig, 'file' | 'positionOf'> & { backup: Pick<LoadedConfig['backup'], 'schedule'> };
  /** When the last successful run started (see lastSuccessfulRun); undefined = never. */
  lastSuccessAt?: Date;
  /**
   * Called when a run is due. The scheduler does not wait for it: a run still going when the next
   * one is due is the caller's to skip (the run lock tells it).
   */
  onDue: (run: DueRun) => void;
  clock?: Clock;
  /** 0 <= x < 1, for the random delay. */
  random?: () => number;
}

export interface Scheduler {
  /** When the next scheduled run starts (with its random delay); undefined when none is scheduled. */
  readonly next: Date | undefined;
  /** `cron "0 2 * * *" (Europe/Berlin)` style, for the start-up log line and status. */
  readonly description: string;
  /**
   * How old the newest backup may be before `/health/backup` says unhealthy: two periods of the
   * schedule (one missed run is tolerated), 48 hours without a schedule.
   */
  readonly maxAgeMs: number;
  stop(): void;
}

/**
 * Timers are re-armed at least this often and compare against the wall clock, so a run is not
 * late by however long the machine slept (Node's timers do not count suspended time) and a wall
 * clock set by NTP is followed.
 */
const MAX_WAIT_MS = 60_000;

/**
 * Runs `backup.schedule`: calls `onDue` at each scheduled time, once at start when `run_on_start`
 * is set, and once at start when a scheduled time passed since `lastSuccessAt` (`catch_up`, on by
 * default; a config that never succeeded counts as missed). A bad cron expression is a ConfigError
 * at `backup.schedule.cron`. Loads croner only for cron and calendar schedules.
 */
export async function createScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const plan = planSchedule(options.config.backup.schedule);
  const nextAfter = await occurrences(plan, options.config);
  const startedAt = clock.now();

  const missed =
    plan.kind !== 'manual' &&
    plan.catchUp &&
    (options.lastSuccessAt === undefined ||
      (nextAfter(options.lastSuccessAt.getTime(), options.lastSuccessAt.getTime()) ?? Infinity) <= startedAt);
  const startReason: DueReason | undefined = missed ? 'catch-up' : plan.runOnStart ? 'start' : undefined;
  // An interval counts from the last run: this one when it runs at start, else the last success
  // (unless that is more than an interval ago and catch_up is off: then from now).
  const last = options.lastSuccessAt?.getTime();
  const anchor = !startReason && last !== undefined && nextAfter(last, last)! > startedAt ? last : startedAt;
  const first = plan.kind === 'interval' ? anchor + plan.intervalMs : nextAfter(startedAt, startedAt);
  let stopped = false;
  let handle: unknown;
  /** The next run: its scheduled time, when it fires (after its random delay), and why. */
  let pending: { scheduledAt: number; firesAt: number; reason: DueReason } | undefined;

  const delay = () => (plan.kind === 'manual' ? 0 : Math.floor(random() * plan.randomDelayMs));
  const arm = () => {
    if (stopped || !pending) return;
    const wait = Math.max(0, Math.min(pending.firesAt - clock.now(), MAX_WAIT_MS));
    handle = clock.setTimeout(tick, wait);
  };
  const arrange = (scheduledAt: number | undefined, reason: DueReason, firesAt?: number) => {
    pending =
      scheduledAt === undefined
        ? undefined
        : { scheduledAt, reason, firesAt: firesAt ?? scheduledAt + delay() };
    arm();
  };
  const tick = () => {
    if (stopped || !pending) return;
    const now = clock.now();
    if (now < pending.firesAt) return arm();
    const { scheduledAt, reason } = pending;
    // After a sleep that spanned several scheduled times: one run, then the first time after now.
    arrange(reason === 'schedule' ? nextAfter(Math.max(now, scheduledAt), scheduledAt) : first, 'schedule');
    options.onDue({ reason, scheduledAt: new Date(scheduledAt) });
  };

  // A catch-up waits for the random delay as a scheduled run would; run_on_start is asked for: at once.
  if (startReason === 'catch-up') arrange(startedAt, 'catch-up');
  else if (startReason === 'start') arrange(startedAt, 'start', startedAt);
  else arrange(first, 'schedule');

  return {
    get next() {
      return pending && new Date(pending.firesAt);
    },
    description: describePlan(plan),
    maxAgeMs: 2 * (periodOf(plan, nextAfter, startedAt) ?? DEFAULT_MAX_AGE_MS / 2),
    stop() {
      stopped = true;
      pending = undefined;
      clock.clearTimeout(handle);
    },
  };
}

/**
 * The scheduled time following `after`: for cron, croner's next match strictly after it; for an
 * interval, one interval after the run at `previous`, or after `after` when that is already past.
 */
async function occurrences(
  plan: SchedulePlan,
  config: SchedulerOptions['config'],
): Promise<(after: number, previous: number) => number | undefined> {
  if (plan.kind === 'manual') return () => undefined;
  if (plan.kind === 'interval')
    return (after, previous) =>
      previous + plan.intervalMs > after ? previous + plan.intervalMs : after + plan.intervalMs;
  // croner only where a cron pattern is used: the other commands never load it
  const { Cron } = await import('croner');
  let cron: InstanceType<typeof Cron>;
  try {
    cron = new Cron(plan.pattern, { paused: true, ...(plan.timezone ? { timezone: plan.timezone } : {}) });
  } catch (error) {
    throw scheduleError(config, plan.from, `not a cron expression: ${(error as Error).message}`);
  }
  if (!cron.nextRun())
    throw scheduleError(config, plan.from, 'this cron expression never matches a future time');
  return (after) => cron.nextRun(new Date(after))?.getTime();
}

const DEFAULT_MAX_AGE_MS = 48 * 3_600_000;

/** The time between two scheduled runs (for cron: the next two after `from`). */
function periodOf(
  plan: SchedulePlan,
  nextAfter: (after: number, previous: number) => number | undefined,
  from: number,
): number | undefined {
  if (plan.kind === 'interval') return plan.intervalMs;
  const first = nextAfter(from, from);
  const second = first === undefined ? undefined : nextAfter(first, first);
  return first === undefined || second === undefined ? undefined : second - first;
}

function describePlan(plan: SchedulePlan): string {
  if (plan.kind === 'manual') return 'no schedule (manual runs only)';
  const zone = plan.kind === 'cron' && plan.timezone ? ` (${plan.timezone})` : '';
  const what =
    plan.kind === 'interval' ? `every ${plan.intervalMs / 1000} s` : `cron "${plan.pattern}"${zone}`;
  return plan.randomDelayMs > 0 ? `${what}, random delay up to ${plan.randomDelayMs / 1000} s` : what;
}

/**
 * When this config's last successful run (a success, or one completed with warnings) started,
 * from the run history in its state folder; undefined when it never succeeded.
 */
export async function lastSuccessfulRun(
  config: Pick<LoadedConfig, 'file'> & { backup: Pick<LoadedConfig['backup'], 'state_dir'> },
): Promise<Date | undefined> {
  const runs = await readRunHistory(config.backup.state_dir, { config: config.file });
  const last = runs.find((run) => run.status === 'success' || run.status === 'warning');
  return last ? new Date(last.started_at) : undefined;
}
