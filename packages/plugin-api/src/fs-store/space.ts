import { statfs } from 'node:fs/promises';
import { DestinationError } from '../errors.js';

/** Bytes an unprivileged writer may still use on the filesystem of `path`; undefined when it cannot be known. */
export async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a write that cannot fit before a single byte is written, so a full disk
 * fails in a second with the numbers instead of after minutes with ENOSPC. The
 * temporary file needs the whole size even when it replaces an existing object.
 */
export function spaceShortfall(
  needed: number,
  free: number | undefined,
  folder: string,
): DestinationError | undefined {
  if (free === undefined || needed <= free) return undefined;
  return new DestinationError(
    'NO_SPACE',
    `not enough free space in ${folder}: need ${formatBytes(needed)} (${needed} bytes), ${formatBytes(free)} (${free} bytes) free`,
    { retryable: false, hint: 'free space on that filesystem or point path elsewhere' },
  );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
