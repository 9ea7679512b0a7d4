import { execFileSync } from 'node:child_process';
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { cronToOnCalendar } from '../src/systemd/on-calendar.js';
import { escapeArg } from '../src/systemd/units.js';

const BASE = '2026-12-02T12:00:00Z';

/** The next elapses systemd computes for an OnCalendar= value, as ISO times. */
function systemdElapses(onCalendar: string, count: number): string[] {
  const output = execFileSync(
    'systemd-analyze',
    ['calendar', `--iterations=${count}`, '--base-time=2026-12-02 12:00:00 UTC', onCalendar],
    { env: { ...process.env, TZ: 'UTC', SYSTEMD_COLORS: '0' }, encoding: 'utf8' },
  );
  return [...output.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC/g)].map(
    (match) => `${match[1]!.replace(' ', 'T')}.000Z`,
  );
}

function cronElapses(pattern: string, timezone: string | undefined, count: number): string[] {
  const cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
  return cron.nextRuns(count, new Date(BASE)).map((date) => date.toISOString());
}

describe('cronToOnCalendar: the timer fires when serve would', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['30 2 * * *', 'Europe/Berlin', '*-*-* 02:30:00 Europe/Berlin'],
    ['0 4 * * 0', 'UTC', 'Sun *-*-* 04:00:00 UTC'],
    ['15 * * * *', 'UTC', '*-*-* *:15:00 UTC'],
    ['*/20 8-17 * * 1-5', 'America/New_York', 'Mon..Fri *-*-* 08..17:00/20:00 America/New_York'],
    ['0 3 1,15 * *', 'UTC', '*-*-1,15 03:00:00 UTC'],
    ['0 0 1 jan *', 'UTC', '*-1-1 00:00:00 UTC'],
    ['@weekly', 'UTC', 'Sun *-*-* 00:00:00 UTC'],
    ['30 0 6 * * *', 'UTC', '*-*-* 06:00:30 UTC'],
  ];
  for (const [pattern, timezone, expected] of cases) {
    it(`${pattern} (${timezone})`, () => {
      const onCalendar = cronToOnCalendar(pattern, timezone);
      expect(onCalendar).toBe(expected);
      expect(systemdElapses(onCalendar, 4)).toEqual(cronElapses(pattern, timezone, 4));
    });
  }

  it('refuses what systemd cannot say the same way, saying why', () => {
    expect(() => cronToOnCalendar('0 2 1 * 1')).toThrow(/day of month and a day of week both restricted/);
    expect(() => cronToOnCalendar('0 2 L * *')).toThrow(/day of month: "L" is not supported/);
    expect(() => cronToOnCalendar('0 2 * * 1#2')).toThrow(/day of week/);
    expect(() => cronToOnCalendar('0 2 * *')).toThrow(/expected 5 or 6 fields, found 4/);
  });
});

describe('escapeArg', () => {
  it('quotes what systemd would split, and doubles % (a specifier)', () => {
    expect(escapeArg('/etc/matric-backup/backup.yaml')).toBe('/etc/matric-backup/backup.yaml');
    expect(escapeArg('/srv/my configs/100%.yaml')).toBe('"/srv/my configs/100%%.yaml"');
    expect(escapeArg('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});
