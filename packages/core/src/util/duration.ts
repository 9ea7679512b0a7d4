import type { DurationInput } from '../config/schema.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `45m`, `36h`, `7d`, `500ms` -> milliseconds; a bare number means seconds. */
export function parseDuration(input: DurationInput): number {
  if (typeof input === 'number') return input * 1000;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(input.trim());
  if (!match) throw new RangeError(`not a duration: ${JSON.stringify(input)} (use e.g. 90s, 45m, 36h, 7d)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
