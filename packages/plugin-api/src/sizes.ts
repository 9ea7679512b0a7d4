/**
 * The one byte-size grammar, for config keys and CLI options alike, as GNU
 * coreutils (dd, sort -S, df -B) read sizes: a bare number is bytes; `K`, `M`,
 * `G`, `T` and `KiB`, `MiB`, `GiB`, `TiB` are powers of 1024; `KB`, `MB`,
 * `GB`, `TB` are powers of 1000, as disk vendors and `du --si` count. Units
 * are case-insensitive; a space before the unit is allowed.
 */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1e3,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1e6,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1e9,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1e12,
};

/** What a size looks like, for error messages. */
export const BYTE_SIZE_HINT =
  'bytes, or a number with a unit: 16MiB or 16M (2^20 bytes each), 64MB (10^6 bytes each)';

/** `16MiB`, `16M`, `64 MB`, `1.5GiB` or a whole byte count -> bytes; undefined when unreadable. */
export function parseByteSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  return Math.round(Number(match[1]) * unit);
}
