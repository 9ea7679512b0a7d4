import { ConfigError, type LoadedConfig, parseDuration, type ScheduleConfig } from '@matric-backup/core';

/**
 * `backup.schedule` in one shape: a cron pattern (the calendar keys are turned into one), a fixed
 * interval, or nothing (manual runs only). The scheduler and `matric-backup systemd --timer` both
 * read it, so the daemon and the timer run at the same times.
 */
export type SchedulePlan =
  | { kind: 'manual'; runOnStart: boolean }
  | {
      kind: 'cron';
      /** 5 fields (6 with seconds first), as croner reads them. */
      pattern: string;
      /** The zone the pattern is read in; undefined = the machine's local zone. */
      timezone?: string;
      /** Which keys it came from, for messages: `cron` or `full_backup`. */
      from: 'cron' | 'full_backup';
      randomDelayMs: number;
      runOnStart: boolean;
      catchUp: boolean;
    }
  | { kind: 'interval'; intervalMs: number; randomDelayMs: number; runOnStart: boolean; catchUp: boolean };

const DAY_NUMBER = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
} as const;

/** The config's schedule as a plan; no schedule at all is manual only. */
export function planSchedule(schedule: ScheduleConfig | undefined): SchedulePlan {
  const runOnStart = schedule?.run_on_start ?? false;
  if (!schedule) return { kind: 'manual', runOnStart };
  const randomDelayMs = schedule.random_delay === undefined ? 0 : parseDuration(schedule.random_delay);
  const catchUp = schedule.catch_up ?? true;
  if (schedule.interval !== undefined) {
    const intervalMs = parseDuration(schedule.interval);
    return intervalMs === 0
      ? { kind: 'manual', runOnStart }
      : { kind: 'interval', intervalMs, randomDelayMs, runOnStart, catchUp };
  }
  const common = { timezone: schedule.timezone, randomDelayMs, runOnStart, catchUp };
  if (schedule.cron !== undefined) return { kind: 'cron', pattern: schedule.cron, from: 'cron', ...common };
  const calendar = calendarPattern(schedule);
  return calendar === undefined
    ? { kind: 'manual', runOnStart }
    : { kind: 'cron', pattern: calendar, from: 'full_backup', ...common };
}

/**
 * The calendar keys as a cron pattern. `time` alone means daily, `day_of_week` alone weekly; an
 * hourly schedule takes the minutes of `time`. `day_of_week` beside `daily` is ignored (configs
 * written for the original design set it there).
 */
function calendarPattern(schedule: ScheduleConfig): string | undefined {
  const frequency =
    schedule.full_backup ??
    (schedule.day_of_week !== undefined ? 'weekly' : schedule.time !== undefined ? 'daily' : undefined);
  if (frequency === undefined) return undefined;
  const [hour, minute] = (schedule.time ?? '00:00').split(':').map(Number) as [number, number];
  if (frequency === 'hourly') return `${minute} * * * *`;
  if (frequency === 'daily') return `${minute} ${hour} * * *`;
  return `${minute} ${hour} * * ${DAY_NUMBER[schedule.day_of_week ?? 'monday']}`;
}

/** A pattern croner refuses, as a config error at `backup.schedule.cron` with its line. */
export function scheduleError(
  config: Pick<LoadedConfig, 'file' | 'positionOf'>,
  key: string,
  message: string,
): ConfigError {
  const path = ['backup', 'schedule', key];
  return new ConfigError([{ path: path.join('.'), message, ...config.positionOf?.(path) }], config.file, {
    hint: 'fix the schedule, then run `matric-backup check`',
  });
}
