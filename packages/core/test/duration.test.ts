import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/util/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['45m', 2_700_000],
    ['36h', 129_600_000],
    ['7d', 604_800_000],
    ['1.5h', 5_400_000],
    [2, 2000],
    ['36', 36_000],
    [' 1.5 ', 1500],
  ] as const)('%j -> %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '7w', 'soon', '-1s', '1e3', -1])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/not a duration/);
  });
});
