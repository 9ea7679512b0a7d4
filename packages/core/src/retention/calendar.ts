/**
 * Calendar buckets of an instant in a named time zone. Intl does the zone math
 * (DST included); the ISO week is then pure arithmetic on the local date.
 */
export interface CalendarKeys {
  daily: string;
  weekly: string;
  monthly: string;
  yearly: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function calendarKeys(at: Date, timeZone: string): CalendarKeys {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const { isoYear, isoWeek } = isoWeekOf(year, month, day);
  return {
    daily: `${pad(year, 4)}-${pad(month)}-${pad(day)}`,
    weekly: `${pad(isoYear, 4)}-W${pad(isoWeek)}`,
    monthly: `${pad(year, 4)}-${pad(month)}`,
    yearly: pad(year, 4),
  };
}

/** ISO 8601 week (Monday first; week 1 holds the year's first Thursday). */
export function isoWeekOf(year: number, month: number, day: number): { isoYear: number; isoWeek: number } {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const isoYear = date.getUTCFullYear();
  const firstDay = Date.UTC(isoYear, 0, 1);
  const isoWeek = Math.ceil(((date.getTime() - firstDay) / 86_400_000 + 1) / 7);
  return { isoYear, isoWeek };
}
