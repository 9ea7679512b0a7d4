/**
 * A cron expression as a systemd `OnCalendar=` value, so that the timer fires when `serve` would.
 * Plain cron only: numbers, `*`, lists, ranges and `*` or `N` with a step; what systemd cannot say
 * the same way (a day of month and a day of week both restricted: cron ORs them, systemd ANDs
 * them; `L`, `W`, `#`, a range with a step) throws, and the caller says to use `serve` instead.
 */
export function cronToOnCalendar(pattern: string, timezone?: string): string {
  const nickname = NICKNAMES[pattern.trim().toLowerCase()];
  const fields = (nickname ?? pattern).trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6)
    throw new Error(`expected 5 or 6 fields, found ${fields.length}`);
  const [second, minute, hour, dom, month, dow] = (fields.length === 5 ? ['0', ...fields] : fields) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (dom !== '*' && dom !== '?' && dow !== '*' && dow !== '?')
    throw new Error(
      'a day of month and a day of week both restricted (cron runs on either, systemd on both)',
    );
  const days = dow === '*' || dow === '?' ? '' : `${field(dow, 'day of week', 0, 7, weekday)} `;
  const date = `*-${field(month, 'month', 1, 12, String, MONTHS)}-${dom === '?' ? '*' : field(dom, 'day of month', 1, 31)}`;
  const time = [hour, minute, second]
    .map((value, index) => field(value, ['hour', 'minute', 'second'][index]!, 0, index === 0 ? 23 : 59, pad))
    .join(':');
  return `${days}${date} ${time}${timezone ? ` ${timezone}` : ''}`;
}

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const pad = (value: number) => String(value).padStart(2, '0');
const weekday = (value: number) => DAYS[value]!;

/** One cron field in systemd's words: `a,b`, `a..b`, `start/step`. */
function field(
  text: string,
  what: string,
  min: number,
  max: number,
  show: (value: number) => string = String,
  names: readonly string[] = what === 'day of week' ? DAYS.map((day) => day.toLowerCase()) : [],
): string {
  const number = (part: string): number => {
    const named = names.indexOf(part.toLowerCase());
    const value =
      named >= 0 ? named + (what === 'month' ? 1 : 0) : /^\d+$/.test(part) ? Number(part) : Number.NaN;
    if (!(value >= min && value <= max)) throw new Error(`${what}: "${part}" is not supported here`);
    return value;
  };
  if (text === '*') return '*';
  return text
    .split(',')
    .map((part) => {
      const step = /^(\*|\d+)\/(\d+)$/.exec(part);
      if (step) {
        if (what === 'day of week') throw new Error(`${what}: a step ("${part}") is not supported here`);
        return `${step[1] === '*' ? show(min) : show(number(step[1]!))}/${Number(step[2])}`;
      }
      const range = /^(\w+)-(\w+)$/.exec(part);
      if (range) return `${show(number(range[1]!))}..${show(number(range[2]!))}`;
      return show(number(part));
    })
    .join(',');
}
