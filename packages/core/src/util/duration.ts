/**
 * The one duration grammar: config keys (`retry.initial_delay`, a source's
 * `timeout`) and CLI options (`status --max-age`) all read durations here.
 * A number, or a string of digits without a unit, counts seconds.
 */
export type DurationInput = number | string;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/** What a duration looks like, for error messages. */
export const DURATION_HINT = 'a duration like 500ms, 30s, 5m, 2h or 7d; a bare number counts seconds';

/** `90s`, `45m`, `36h`, `7d`, `500ms` -> milliseconds; a bare number (`36`, or 36) means seconds. */
export function parseDuration(input: DurationInput): number {
  if (typeof input === 'number') {
    if (!(input >= 0)) throw new RangeError(`not a duration: ${input}: expected ${DURATION_HINT}`);
    return input * 1000;
  }
  const match = DURATION_PATTERN.exec(input.trim());
  if (!match) throw new RangeError(`not a duration: ${JSON.stringify(input)}: expected ${DURATION_HINT}`);
  return Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS];
}
