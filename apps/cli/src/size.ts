import { MatricError } from '@matric-backup/core';

const UNIT: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `1048576`, `512K`, `500M`, `2G`, `1.5TiB` -> bytes (binary units, as formatBytes prints them). */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) {
    throw new MatricError('USAGE', `${option} ${JSON.stringify(text)} is not a size`, {
      hint: 'bytes, or a number with K, M, G or T (binary: 1K = 1024 bytes), e.g. 500M',
    });
  }
  return Math.floor(Number(match[1]) * UNIT[match[2]!.toUpperCase()]!);
}
