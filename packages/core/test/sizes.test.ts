import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../src/index.js';

describe('parseByteSize', () => {
  it.each([
    [1048576, 1048576],
    ['1048576', 1048576],
    ['512B', 512],
    ['16M', 16 * 2 ** 20],
    ['16MiB', 16 * 2 ** 20],
    ['16 mib', 16 * 2 ** 20],
    ['64MB', 64_000_000],
    ['500MB', 500_000_000],
    ['1.5G', 1.5 * 2 ** 30],
    ['2GB', 2e9],
    ['1K', 1024],
    ['1kB', 1000],
    ['1TiB', 2 ** 40],
    ['1TB', 1e12],
  ] as const)('%j -> %d bytes', (input, bytes) => {
    expect(parseByteSize(input)).toBe(bytes);
  });

  it.each(['', 'M', '16 parsecs', '-1', '1e6', 1.5, -1])('%j is not a size', (input) => {
    expect(parseByteSize(input)).toBeUndefined();
  });
});
