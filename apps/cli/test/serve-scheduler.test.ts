import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduleConfig } from '@matric-backup/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type Clock, createScheduler, type DueRun, lastSuccessfulRun } from '../src/serve/scheduler.js';

/** A clock that only moves when told: timers fire in time order as `advance` passes them. */
class FakeClock implements Clock {
  private timers = new Map<number, { at: number; callback: () => void }>();
  private ids = 0;
  constructor(public time: number) {}
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    this.ids += 1;
    this.timers.set(this.ids, { at: this.time + ms, callback });
    return this.ids;
  };
  clearTimeout = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  /** Moves time forward, firing each timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].callback();
    }
    this.time = end;
  }
  /** The wall clock jumps (a suspended machine wakes up); timers stay where they were. */
  jump(ms: number): void {
    this.time += ms;
  }
  get pendingTimers(): number {
    return this.timers.size;
  }
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);

async function start(
  schedule: ScheduleConfig | undefined,
  options: { now: string; lastSuccess?: string; random?: () => number },
) {
  const clock = new FakeClock(at(options.now));
  const runs: Array<DueRun & { at: string }> = [];
  const scheduler = await createScheduler({
    config: { file: '/etc/matric-backup/backup.yaml', backup: { schedule } },
    lastSuccessAt: options.lastSuccess ? new Date(options.lastSuccess) : undefined,
    onDue: (run) => runs.push({ ...run, at: new Date(clock.now()).toISOString() }),
    clock,
    random: options.random ?? (() => 0),
  });
  onTestFinished(() => scheduler.stop());
  const fired = () => runs.map((run) => `${run.reason}@${run.at}`);
  return { clock, runs, scheduler, fired };
}

describe('scheduler: the calendar keys', () => {
  it('daily at a time, in the configured time zone, across a DST change', async () => {
    const { clock, fired, scheduler } = await start(
      { full_backup: 'daily', time: '02:30', timezone: 'Europe/Berlin' },
      { now: '2026-03-27T12:00:00Z', lastSuccess: '2026-03-27T01:30:00Z' },
    );
    expect(scheduler.next?.toISOString()).toBe('2026-03-28T01:30:00.000Z');
    clock.advance(3 * DAY);
    // 02:30 on 2026-03-29 does not exist in Berlin (clocks jump from 02:00 to 03:00): it runs at 03:00.
    expect(fired()).toEqual([
      'schedule@2026-03-28T01:30:00.000Z',
      'schedule@2026-03-29T01:00:00.000Z',
      'schedule@2026-03-30T00:30:00.000Z',
    ]);
  });

  it("the original design's example (daily, with day_of_week beside it) runs daily", async () => {
    const { clock, fired } = await start(
      { full_backup: 'daily', time: '02:00', day_of_week: 'sunday', timezone: 'UTC' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-12-02T02:00:00Z' },
    );
    clock.advance(2 * DAY);
    expect(fired()).toEqual(['schedule@2026-12-03T02:00:00.000Z', 'schedule@2026-12-04T02:00:00.000Z']);
  });

  it('weekly on a day, hourly at the minutes of time; time alone means daily', async () => {
    const weekly = await start(
      { full_backup: 'weekly', day_of_week: 'sunday', time: '04:00', timezone: 'UTC' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-11-29T04:00:00Z' },
    );
    expect(weekly.scheduler.next?.toISOString()).toBe('2026-12-06T04:00:00.000Z');
    const hourly = await start(
      { full_backup: 'hourly', time: '00:15', timezone: 'UTC' },
      { now: '2026-12-02T12:20:00Z', lastSuccess: '2026-12-02T12:15:00Z' },
    );
    expect(hourly.scheduler.next?.toISOString()).toBe('2026-12-02T13:15:00.000Z');
    const timeOnly = await start(
      { time: '23:00', timezone: 'UTC' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-12-01T23:00:00Z' },
    );
    expect(timeOnly.scheduler.next?.toISOString()).toBe('2026-12-02T23:00:00.000Z');
    // Health allows two periods: one missed run.
    expect([weekly, hourly, timeOnly].map((started) => started.scheduler.maxAgeMs / HOUR)).toEqual([
      336, 2, 48,
    ]);
  });

  it('cron overrides the calendar keys; a bad expression is a config error at its key path', async () => {
    const cron = await start(
      { cron: '*/20 * * * *', full_backup: 'daily', timezone: 'UTC' },
      { now: '2026-12-02T12:05:00Z', lastSuccess: '2026-12-02T12:00:00Z' },
    );
    cron.clock.advance(40 * 60_000);
    expect(cron.fired()).toEqual(['schedule@2026-12-02T12:20:00.000Z', 'schedule@2026-12-02T12:40:00.000Z']);

    const error = await createScheduler({
      config: {
        file: '/etc/b.yaml',
        positionOf: () => ({ line: 7, column: 11 }),
        backup: { schedule: { cron: '61 * * * *' } },
      },
      onDue: () => {},
    }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toMatch(
      /^\/etc\/b\.yaml:7:11: backup\.schedule\.cron: not a cron expression: .*minute/,
    );
  });
});

describe('scheduler: interval, start and catch-up', () => {
  it('an interval counts from the last success; a random delay shifts each run within its bound', async () => {
    const { clock, fired } = await start(
      { interval: '6h', random_delay: '10m' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-12-02T10:00:00Z', random: () => 0.5 },
    );
    clock.advance(11 * HOUR);
    expect(fired()).toEqual(['schedule@2026-12-02T16:05:00.000Z', 'schedule@2026-12-02T22:05:00.000Z']);
  });

  it('catch-up: one run at start when a scheduled time passed since the last success, then the schedule', async () => {
    // Off for three days: three 02:00 runs were missed, one catch-up run makes up for them.
    const { clock, fired } = await start(
      { full_backup: 'daily', time: '02:00', timezone: 'UTC' },
      { now: '2026-12-05T09:00:00Z', lastSuccess: '2026-12-02T02:00:03Z' },
    );
    clock.advance(DAY);
    expect(fired()).toEqual(['catch-up@2026-12-05T09:00:00.000Z', 'schedule@2026-12-06T02:00:00.000Z']);
  });

  it('no catch-up when the last success is recent, or when catch_up is off; never succeeded counts as missed', async () => {
    const recent = await start(
      { interval: '24h' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-12-02T01:00:00Z' },
    );
    recent.clock.advance(1000);
    expect(recent.fired()).toEqual([]);
    const off = await start(
      { interval: '24h', catch_up: false },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-11-20T01:00:00Z' },
    );
    off.clock.advance(1000);
    expect(off.fired()).toEqual([]);
    const never = await start({ interval: '24h' }, { now: '2026-12-02T12:00:00Z' });
    never.clock.advance(DAY);
    expect(never.fired()).toEqual(['catch-up@2026-12-02T12:00:00.000Z', 'schedule@2026-12-03T12:00:00.000Z']);
  });

  it('run_on_start runs at once (no random delay), then the interval counts from it', async () => {
    const { clock, fired } = await start(
      { interval: '2h', run_on_start: true, random_delay: '30m' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-12-02T11:00:00Z', random: () => 0 },
    );
    clock.advance(4 * HOUR);
    expect(fired()).toEqual([
      'start@2026-12-02T12:00:00.000Z',
      'schedule@2026-12-02T14:00:00.000Z',
      'schedule@2026-12-02T16:00:00.000Z',
    ]);
  });

  it('interval 0, or no schedule: manual only (run_on_start still runs once)', async () => {
    const zero = await start({ interval: 0 }, { now: '2026-12-02T12:00:00Z' });
    zero.clock.advance(30 * DAY);
    expect(zero.fired()).toEqual([]);
    expect(zero.scheduler.next).toBeUndefined();
    expect(zero.scheduler.description).toBe('no schedule (manual runs only)');
    expect(zero.scheduler.maxAgeMs).toBe(48 * HOUR);
    const none = await start(undefined, { now: '2026-12-02T12:00:00Z' });
    expect(none.scheduler.next).toBeUndefined();
    const onStart = await start({ interval: '0', run_on_start: true }, { now: '2026-12-02T12:00:00Z' });
    onStart.clock.advance(DAY);
    expect(onStart.fired()).toEqual(['start@2026-12-02T12:00:00.000Z']);
  });

  it('a suspended machine: the run is made on waking, once, not after the sleep is added again', async () => {
    const { clock, fired, runs } = await start(
      { full_backup: 'hourly', timezone: 'UTC' },
      { now: '2026-12-02T12:10:00Z', lastSuccess: '2026-12-02T12:00:00Z' },
    );
    clock.advance(10 * 60_000);
    clock.jump(5 * HOUR); // the wall clock moved, no timer fired meanwhile
    clock.advance(60_000);
    expect(fired()).toEqual(['schedule@2026-12-02T17:20:00.000Z']);
    expect(runs[0]!.scheduledAt.toISOString()).toBe('2026-12-02T13:00:00.000Z');
    clock.advance(HOUR);
    expect(fired()).toHaveLength(2);
    expect(fired()[1]).toBe('schedule@2026-12-02T18:00:00.000Z');
  });

  it('stop() cancels what is pending', async () => {
    const { clock, fired, scheduler } = await start(
      { interval: '1h' },
      { now: '2026-12-02T12:00:00Z', lastSuccess: '2026-12-02T11:30:00Z' },
    );
    scheduler.stop();
    clock.advance(DAY);
    expect(fired()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(scheduler.next).toBeUndefined();
  });
});

describe('lastSuccessfulRun', () => {
  it("reads the config's newest successful run from runs.jsonl (warnings count as success)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mb-scheduler-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const record = (config: string, status: string, started_at: string) =>
      JSON.stringify({
        id: 'x',
        config,
        status,
        started_at,
        finished_at: started_at,
        duration_ms: 1,
        destinations: [],
      });
    await writeFile(
      join(dir, 'runs.jsonl'),
      [
        record('/etc/a.yaml', 'success', '2026-12-01T02:00:00Z'),
        record('/etc/a.yaml', 'warning', '2026-12-02T02:00:00Z'),
        record('/etc/a.yaml', 'failed', '2026-12-03T02:00:00Z'),
        record('/etc/other.yaml', 'success', '2026-12-04T02:00:00Z'),
      ].join('\n'),
    );
    const config = (file: string) => ({ file, backup: { state_dir: dir } });
    expect((await lastSuccessfulRun(config('/etc/a.yaml')))?.toISOString()).toBe('2026-12-02T02:00:00.000Z');
    expect(await lastSuccessfulRun(config('/etc/none.yaml'))).toBeUndefined();
  });
});
