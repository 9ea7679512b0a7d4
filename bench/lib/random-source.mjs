import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/**
 * A source folder holding one file of random bytes, 1 GiB scaled by BENCH_SCALE: zstd cannot shrink
 * it, so the shard a case uploads really is that big. Written in 8 MiB pieces, never whole in memory.
 */
export function writeRandomSource(ctx) {
  const dir = join(ctx.tmp, 'random');
  mkdirSync(dir);
  const bytes = Math.round(1024 * MiB * Math.min(1, Number(process.env.BENCH_SCALE ?? 1)));
  ctx.log(`writing ${Math.round(bytes / MiB)} MiB of random data`);
  const fd = openSync(join(dir, 'random.bin'), 'w');
  try {
    for (let left = bytes; left > 0; left -= 8 * MiB) writeSync(fd, randomBytes(Math.min(8 * MiB, left)));
  } finally {
    closeSync(fd);
  }
  const label = bytes === 1024 * MiB ? '1 GiB' : `${Math.round(bytes / MiB)} MiB`;
  return { dir, bytes, label };
}
